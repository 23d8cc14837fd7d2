"""Helpers and fixtures for the site tests (tests/test_site.py, tests/test_browser.py).

Two sites are checked the same way:

* ``book``: the real book, ``book/_build/html`` from the session fixture ``built_book``
  (tests/conftest.py, a strict ``jupyter-book build book --all``);
* ``sample``: a small book built by these tests with the real configuration and extensions and
  one chapter holding one of everything a chapter may contain (inline, display, numbered and
  amsmath formulas, proofs, algorithms, exercises with solutions, citations, glossary links,
  glue, code cells with SVG figures and alt text, a wide table, a long code line, the book's
  compound search terms). It proves the apparatus works before the chapters use it.

Test modules import what they need: ``from site_fixtures import ...`` (pytest puts tests/ on
sys.path).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import socketserver
import textwrap
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from conftest import BOOK, REPO, run_build, toc_docnames

# The compound terms the issue names (each must be found in the final book), then the rest of
# the search dictionary (found wherever a page contains them).
ISSUE_TERMS = ["梯度下降", "随机梯度下降", "学习率衰减", "小批量", "动量法"]


def search_terms() -> list[str]:
    terms = list(ISSUE_TERMS)
    dict_file = BOOK / "_ext" / "search_dict.txt"
    for line in dict_file.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and line.split()[0] not in terms:
            terms.append(line.split()[0])
    return terms


# --------------------------------------------------------------------------------------------
# The sample book
# --------------------------------------------------------------------------------------------
NB_HEADER = textwrap.dedent("""\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
        format_version: 0.13
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---
    """)

SAMPLE_CHAPTER = NB_HEADER + textwrap.dedent(r"""
    (ch-sample)=
    # 示例章节：梯度下降与随机梯度下降

    本章是测试用的示例。{term}`梯度下降`沿负梯度方向更新参数；随机梯度下降、小批量随机梯度下降、
    学习率衰减、小批量和动量法都在后面出现。行内公式 $x_{k+1} = x_k - \eta \nabla f(x_k)$，
    条件数 $\kappa = L/\mu$，以及 $\R^d$、$\E[\xi]$、$\argmin_x f(x)$ 这些本书的宏。
    文献引用 {cite}`robbins1951`。

    $$
    f(x) = \frac{1}{2} x^\top A x - b^\top x
    $$ (eq-sample-quadratic)

    由式 {eq}`eq-sample-quadratic` 得到梯度 $\nabla f(x) = Ax - b$。

    $$
    \begin{aligned}
    x_{k+1} - x^\star &= (I - \eta A)(x_k - x^\star) \\
    \lVert x_{k+1} - x^\star \rVert &\le \max_i \lvert 1 - \eta \lambda_i \rvert \, \lVert x_k - x^\star \rVert
    \end{aligned}
    $$

    \begin{align}
    m_k &= \beta m_{k-1} + (1-\beta) g_k \\
    v_k &= \beta_2 v_{k-1} + (1-\beta_2) g_k^2
    \end{align}

    一个很宽的公式，在窄屏上应当在自己的框内滚动：

    $$
    L(w) = \frac{1}{n}\sum_{i=1}^{n} \ell(w; x_i, y_i) = \frac{1}{n}\sum_{i=1}^{n} \log\left(1 + \exp(-y_i w^\top x_i)\right) + \frac{\lambda}{2}\lVert w \rVert^2 + \frac{\lambda}{2}\lVert w \rVert^2 + \frac{\lambda}{2}\lVert w \rVert^2
    $$

    ```{prf:definition} $L$-光滑
    :label: def-sample-smooth

    若 $\lVert \nabla f(x) - \nabla f(y) \rVert \le L \lVert x - y \rVert$，称 $f$ 为 $L$-光滑。
    ```

    ```{prf:theorem} 梯度下降的收敛
    :label: thm-sample-gd

    设 $f$ 为 $L$-光滑且 $\mu$-强凸，$\eta = 1/L$，则 $f(x_k) - f^\star \le (1 - \mu/L)^k (f(x_0) - f^\star)$。
    ```

    ```{prf:proof}
    由 {prf:ref}`def-sample-smooth` 的下降引理，$f(x_{k+1}) \le f(x_k) - \frac{1}{2L}\lVert \nabla f(x_k) \rVert^2$。
    ```

    ```{prf:algorithm} 小批量随机梯度下降
    :label: alg-sample-sgd

    **输入**：初始点 $x_0$，学习率 $\eta$，批大小 $B$

    1. 对 $k = 0, 1, \dots$ 重复：
       1. 随机抽取大小为 $B$ 的小批量 $\mathcal{B}_k$
       2. $x_{k+1} \gets x_k - \eta \frac{1}{B} \sum_{i \in \mathcal{B}_k} \nabla f_i(x_k)$
    ```

    引用：{prf:ref}`thm-sample-gd`、{prf:ref}`alg-sample-sgd`。

    | 方法 | 每步代价 | 收敛速度 | 噪声 | 内存 | 批大小 | 学习率 | 动量 | 备注一 | 备注二 | 备注三 |
    |---|---|---|---|---|---|---|---|---|---|---|
    | 梯度下降 | $O(nd)$ | 线性 | 无 | $O(d)$ | $n$ | $1/L$ | 无 | ——— | ——— | ——— |
    | 随机梯度下降 | $O(d)$ | 次线性 | 有 | $O(d)$ | $1$ | 递减 | 可选 | ——— | ——— | ——— |

    ```{code-cell} ipython3
    import matplotlib.pyplot as plt
    import numpy as np

    from sgdbook.notebook import glue
    from sgdbook.plotting import use_book_style

    use_book_style()
    rate = 0.5
    glue("sample_rate", rate, display=False)
    a_very_long_variable_name_that_does_not_fit_on_a_phone = np.linspace(0.0, 1.0, 11) * rate + np.arange(11)
    ```

    收敛因子为 {glue:text}`sample_rate:.2f`。

    ```{code-cell} ipython3
    :mystnb:
    :  image:
    :    alt: 折线图：梯度下降的损失随迭代次数按几何级数下降
    :  figure:
    :    caption: 损失随迭代次数下降。
    :    name: fig-sample-loss

    k = np.arange(20)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy(k, rate ** k, marker="o")
    ax.set_xlabel("迭代次数 $k$")
    ax.set_ylabel("损失 $f(x_k) - f^\\star$")
    plt.show()
    ```

    见 {numref}`fig-sample-loss`。

    ```{exercise}
    :label: ex-sample-1

    对 $f(x) = \frac{1}{2}x^2$，学习率 $\eta$ 取何值时梯度下降收敛？
    ```

    ```{solution} ex-sample-1
    :class: dropdown

    $x_{k+1} = (1-\eta)x_k$，当且仅当 $0 < \eta < 2$ 时收敛。
    ```

    ```{glossary}
    梯度下降
      Gradient descent。$x_{k+1} = x_k - \eta \nabla f(x_k)$。
    ```

    ## 参考文献

    ```{bibliography}
    :filter: docname in docnames
    ```
    """)


def _write_sample_book(root: Path) -> Path:
    """A copy of the repository's layout with the preface and the sample chapter."""
    book = root / "book"
    book.mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    toc = {
        "format": "jb-book",
        "root": "index",
        "parts": [{"caption": "正文", "numbered": True, "chapters": [{"file": "sample"}]}],
    }
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, allow_unicode=True), encoding="utf-8")
    for name in ("_config.yml", "_toc.yml"):
        (book / name).symlink_to(Path("..") / name)
    for item in BOOK.iterdir():
        if item.name.startswith("_") and item.name not in ("_build", "_config.yml", "_toc.yml"):
            (book / item.name).symlink_to(item)
    for item in BOOK.glob("*.bib"):
        (book / item.name).symlink_to(item)
    for name in ("sgdbook", "requirements", "node_modules"):
        if (REPO / name).exists():
            (root / name).symlink_to(REPO / name)
    (book / "index.md").write_text("(preface)=\n# 前言\n\n测试用的示例书。\n", encoding="utf-8")
    (book / "sample.md").write_text(SAMPLE_CHAPTER, encoding="utf-8")
    return book


@pytest.fixture(scope="session")
def sample_book(tmp_path_factory) -> Path:
    """Build the sample book strictly; return its ``_build/html``."""
    book = _write_sample_book(tmp_path_factory.mktemp("sample") / "repo")
    result = run_build(book, "--all", cwd=book.parent, timeout=900)
    if result.returncode != 0:
        pytest.fail(
            "strict build of the sample book failed:\n"
            f"{result.stdout[-15000:]}\n{result.stderr[-15000:]}",
            pytrace=False,
        )
    return book / "_build" / "html"


SAMPLE_DOCS = ["index", "sample"]


@pytest.fixture(scope="session", params=["book", "sample"])
def site(request) -> tuple[str, Path, list[str]]:
    """(name, html directory, TOC docnames) of each site under test."""
    if request.param == "book":
        return "book", request.getfixturevalue("built_book"), toc_docnames()
    return "sample", request.getfixturevalue("sample_book"), SAMPLE_DOCS


# --------------------------------------------------------------------------------------------
# HTML parsing
# --------------------------------------------------------------------------------------------
class Page(HTMLParser):
    """Elements and text of one built page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.prose: list[str] = []  # text outside code (pre, code, textarea)
        self._skip: list[str] = []
        self._code: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag in ("script", "style") or "katex-mathml" in attrs.get("class", ""):
            self._skip.append(tag)
        elif tag in ("pre", "code", "textarea"):
            self._code.append(tag)

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        elif self._code and self._code[-1] == tag:
            self._code.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if not self._code:
                self.prose.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag]


@functools.lru_cache(maxsize=256)
def _parse_cached(path: str, mtime: float) -> Page:
    page = Page()
    page.feed(Path(path).read_text(encoding="utf-8"))
    return page


def parse(path: Path) -> Page:
    return _parse_cached(str(path), path.stat().st_mtime)


def page_text(path: Path) -> str:
    return "".join(parse(path).text)


def search_index(html: Path) -> dict:
    raw = (html / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(raw[raw.index("(") + 1 : raw.rindex(")")])


def is_external(url: str) -> bool:
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I)) and not url.startswith(
        ("http://127.0.0.1", "http://localhost")
    )


# --------------------------------------------------------------------------------------------
# A local web server for the browser tests
# --------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".svg": "image/svg+xml",
        ".woff2": "font/woff2",
        ".ipynb": "application/json",
        ".md": "text/markdown; charset=utf-8",
    }

    def log_message(self, *args):  # keep pytest output clean
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(directory: Path) -> tuple[str, _Server]:
    """Serve ``directory`` on a free localhost port in a thread; return (base URL, server)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server
