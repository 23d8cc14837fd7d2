"""An incremental build writes what a clean build of the same sources writes, byte for byte.

The fast edit loop (docs/build.md) skips work a rebuild would repeat: pages whose output cannot
change are not written, jieba's segmentation of texts already seen comes from a cache, the
dictionary for new texts is loaded in a helper process. Each shortcut is only allowed if the
site it leaves is the site a clean build makes; these tests check that on the sample book (the
preface and a chapter with code, math, a figure, an exercise and a glossary, built with every
extension of the real book) after a prose edit, and check the segmentation shortcuts directly.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_build
from site_fixtures import _write_sample_book, search_index

sys.path.insert(0, str(REPO / "book" / "_ext"))

pytestmark = pytest.mark.book


def _build(book: Path, *extra: str) -> str:
    result = run_build(book, *extra, cwd=book.parent, timeout=900)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-8000:]
    return result.stdout + result.stderr


def _differences(left: Path, right: Path) -> list[str]:
    """Files present in one tree only, or with other bytes (the build info file aside)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        found.extend(f"{prefix}{name} (one side only)" for name in cmp.left_only + cmp.right_only)
        for name in cmp.common_files:
            if name == ".buildinfo":
                continue
            if (Path(cmp.left) / name).read_bytes() != (Path(cmp.right) / name).read_bytes():
                found.append(f"{prefix}{name}")
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    return found


TABLE = """
```{{list-table}} {caption}
:name: {name}
:header-rows: 1

* - 步数
  - 损失
* - 1
  - 0.5
```
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    book = _write_sample_book(tmp_path_factory.mktemp("incremental") / "repo")
    # numbered targets cited from the other page: its numbers come from the chapter's skeleton
    chapter = book / "sample.md"
    text = chapter.read_text(encoding="utf-8")
    table = TABLE.format(caption="步数与损失", name="tbl-sample-steps")
    chapter.write_text(text.replace("## 参考文献", table + "\n## 参考文献"), encoding="utf-8")
    index = book / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + "\n见 {numref}`fig-sample-loss` 与 {numref}`tbl-sample-steps`。\n",
        encoding="utf-8",
    )
    _build(book, "--all")
    return book


def test_prose_edit_rebuild_equals_a_clean_build(sample, tmp_path):
    chapter = sample / "sample.md"
    chapter.write_text(
        chapter.read_text(encoding="utf-8") + "\n增量构建测试新加的一句话，带一个新词：鲲鹏。\n",
        encoding="utf-8",
    )
    log = _build(sample)
    written = [line for line in log.splitlines() if "writing output..." in line]
    assert any("sample" in line for line in written), log
    # the front page lists the chapter, but its title and sections did not change
    assert not any("index" in line for line in written), written

    clean = tmp_path / "clean"
    shutil.copytree(sample / "_build" / ".jupyter_cache", clean / "_build" / ".jupyter_cache")
    _build(sample, "--all", "--path-output", str(clean))
    assert _differences(sample / "_build" / "html", clean / "_build" / "html") == []
    # the new text is searchable: segmented by the helper process, as a clean build would
    assert "鲲鹏" in search_index(sample / "_build" / "html")["terms"]


def test_title_edit_rewrites_every_page(sample):
    chapter = sample / "sample.md"
    text = chapter.read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    chapter.write_text(text.replace(heading, heading + "（改）", 1), encoding="utf-8")
    log = _build(sample)
    written = " ".join(line for line in log.splitlines() if "writing output..." in line)
    assert "index" in written and "sample" in written, log
    assert "（改）" in (sample / "_build" / "html" / "index.html").read_text(encoding="utf-8")


def test_new_table_renumbers_the_references_of_the_other_page(sample, tmp_path):
    """A table inserted before a cited one: the citing page is written again, with 表 1.2."""
    index_html = sample / "_build" / "html" / "index.html"
    before = index_html.read_text(encoding="utf-8")
    chapter = sample / "sample.md"
    text = chapter.read_text(encoding="utf-8")
    new_table = TABLE.format(caption="新插入的表", name="tbl-sample-new")
    chapter.write_text(
        text.replace(
            TABLE.format(caption="步数与损失", name="tbl-sample-steps"),
            new_table + TABLE.format(caption="步数与损失", name="tbl-sample-steps"),
            1,
        ),
        encoding="utf-8",
    )
    assert "tbl-sample-new" in chapter.read_text(encoding="utf-8")
    log = _build(sample)
    written = " ".join(line for line in log.splitlines() if "writing output..." in line)
    assert "index" in written, log
    after = index_html.read_text(encoding="utf-8")
    assert "表 1.1<" in before and "表 1.2<" in after and "表 1.2<" not in before, after

    clean = tmp_path / "clean"
    shutil.copytree(sample / "_build" / ".jupyter_cache", clean / "_build" / ".jupyter_cache")
    _build(sample, "--all", "--path-output", str(clean))
    assert _differences(sample / "_build" / "html", clean / "_build" / "html") == []


def test_environment_pickles_no_doctree(sample):
    """sphinx-exercise's registry keeps detached copies, not nodes of whole pages."""
    import pickle

    from docutils import nodes

    loaded: set[str] = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            loaded.add(f"{module}.{name}")
            return super().find_class(module, name)

    with open(sample / "_build" / ".doctrees" / "environment.pickle", "rb") as handle:
        env = Recording(handle).load()
    registry = env.sphinx_exercise_registry
    assert {"ex-sample-1"} <= set(registry), sorted(registry)
    for label, entry in registry.items():
        node = entry["node"]
        assert node.parent is None, label
        assert all(element.document is None for element in node.findall(nodes.Node)), label
    assert "docutils.nodes.document" not in loaded, "a whole doctree went into the pickle"


# --------------------------------------------------------------------------------------------
# The segmentation cache and the helper process
# --------------------------------------------------------------------------------------------
TEXTS = [
    "随机梯度下降在每一步只用一个样本的梯度。",
    "小批量的方差按 1/b 下降，学习率要随之调整。",
    "Adam 的偏差修正让前几步的步长不至于太小。",
]


def test_helper_process_segments_exactly_as_jieba(tmp_path):
    jieba = pytest.importorskip("jieba")
    from sgdbook_site import search

    dict_path = REPO / "book" / "_ext" / "search_dict.txt"
    search._JiebaWorker.start(str(dict_path))
    worker = search._JiebaWorker.running
    assert worker is not None
    try:
        from_worker = [worker.cut(text) for text in TEXTS]
    finally:
        worker.stop()
    assert search._JiebaWorker.running is None
    jieba.load_userdict(str(dict_path))
    assert from_worker == [list(jieba.cut_for_search(text)) for text in TEXTS]


def test_segmentation_cache_round_trip_and_key(tmp_path):
    from sgdbook_site.search import SegmentationCache

    path = tmp_path / "segments.pickle"
    cache = SegmentationCache(path, "梯度下降 10 n\n")
    cache.cuts = {"甲": ["甲"], "乙": ["乙"]}
    cache.used = {"甲"}
    cache.dirty = True
    cache.save(every_page_fed=False)  # an incremental build keeps what it did not use
    assert SegmentationCache(path, "梯度下降 10 n\n").cuts == {"甲": ["甲"], "乙": ["乙"]}
    again = SegmentationCache(path, "梯度下降 10 n\n")
    again.used = {"甲"}
    again.save(every_page_fed=True)  # a clean build keeps only what it used
    assert SegmentationCache(path, "梯度下降 10 n\n").cuts == {"甲": ["甲"]}
    # another user dictionary segments differently: nothing is reused
    assert SegmentationCache(path, "随机梯度下降 10 n\n").cuts == {}
    path.write_bytes(b"not a pickle")
    assert SegmentationCache(path, "梯度下降 10 n\n").cuts == {}


def test_remembered_entry_points_find_the_same_plugins():
    """pybtex's plugin lookups, remembered: the same classes, and run-time plugins still win."""
    import importlib.metadata

    import pybtex.plugin
    from pybtex.style.formatting import BaseStyle

    import sgdbook_build

    sgdbook_build._entry_points_looked_up_once()
    assert pybtex.plugin.entry_points.sgdbook
    expected = {
        ep.name: ep.load()
        for ep in importlib.metadata.entry_points(group="pybtex.style.formatting")
    }
    for name, klass in expected.items():
        assert pybtex.plugin.find_plugin("pybtex.style.formatting", name) is klass, name
    assert set(pybtex.plugin.enumerate_plugin_names("pybtex.style.formatting")) >= set(expected)

    class Runtime(BaseStyle):
        pass

    assert pybtex.plugin.register_plugin("pybtex.style.formatting", "sgdbook-test", Runtime)
    try:
        assert pybtex.plugin.find_plugin("pybtex.style.formatting", "sgdbook-test") is Runtime
    finally:
        pybtex.plugin._RUNTIME_PLUGINS["pybtex.style.formatting"].pop("sgdbook-test", None)
    wrapper = pybtex.plugin.entry_points
    sgdbook_build._entry_points_looked_up_once()  # a second call wraps nothing again
    assert pybtex.plugin.entry_points is wrapper
