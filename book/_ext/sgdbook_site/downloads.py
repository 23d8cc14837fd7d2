"""Downloads: what a reader takes home from the site, and the download menu's entries.

* **Notebooks.** Each notebook chapter's download menu offers the chapter as ``.ipynb`` next to
  its MyST ``.md`` (both under ``_sources/``). The notebook is myst-nb's, with the executed
  outputs merged in from the execution cache, and made to stand alone: its first cell (Markdown,
  Chinese) says how to install what it needs and run it, and the values the chapter glues for
  its prose are shown as plain ``name = value`` lines, as ``sgdbook.notebook.glue`` shows them
  where myst-nb is not installed (myst-nb's own glue outputs are invisible outside the book).
* **The package and its requirements.** Every page's menu offers the ``sgdbook`` wheel
  (:data:`WHEEL_PATTERN`) and :data:`REQUIREMENTS_NAME`, at the site's root. The wheel is built
  from the working tree by hatchling (in a subprocess) and cached in
  ``book/_build/.sgdbook_site/wheel/<fingerprint>/``, the fingerprint being the bytes of every
  file that goes into it, so only a change of the package rebuilds it. The requirements are
  the closure of the wheel's dependencies and its ``notebooks`` extra (a kernel and nbclient)
  in the build environment, each pin copied with its hashes from ``requirements/lock.txt``:
  the versions the book was built and tested with.
* :func:`add_download_button` is the one way to add an entry to the theme's download menu
  (``sgdbook_pdf`` and ``sgdbook_offline`` use it too).
"""

from __future__ import annotations

import filecmp
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from sphinx.application import Sphinx

from .common import PACKAGE_DIR, REPO_ROOT, SiteError, cache_dir

#: File name of the wheel at the site's root (``{version}`` from ``sgdbook/__init__.py``).
WHEEL_PATTERN = "sgdbook-{version}-py3-none-any.whl"
#: File name of the pinned requirements at the site's root.
REQUIREMENTS_NAME = "sgdbook-requirements.txt"
#: The wheel's extra that a reader installs besides its dependencies (pyproject.toml).
READER_EXTRA = "notebooks"
LOCK = REPO_ROOT / "requirements" / "lock.txt"
#: Files outside the package that go into the wheel (its metadata) or decide how it is built.
WHEEL_INPUTS = ("pyproject.toml", "README.md", "LICENSE")
#: Where myst-nb's glue hides a value from Jupyter (``myst_nb.ext.glue.GLUE_PREFIX``).
GLUE_PREFIX = "application/papermill.record/"
#: PyTorch's index of CPU builds (the install note's first step).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: The install note's cell carries this tag (the tests find it by it).
NOTE_TAG = "sgdbook-install-note"
_IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def add_download_button(
    context: dict, *, path: str, text: str, tooltip: str, icon: str, label: str
) -> bool:
    """Append a link to ``path`` (relative to the site's root) to the page's download menu.

    ``label`` is the button's CSS class (``download-…-button``), ``icon`` a Font Awesome class.
    Returns whether the page has a download menu (the theme's ``download-buttons`` group).
    """
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append(
                {
                    "type": "link",
                    "url": context["pathto"](path, 1),
                    "text": text,
                    "tooltip": tooltip,
                    "icon": icon,
                    "label": label,
                }
            )
            return True
    return False


# --------------------------------------------------------------------------------------------
# The wheel
# --------------------------------------------------------------------------------------------
def package_version() -> str:
    """``sgdbook.__version__``, read from the source (the one place the version is written)."""
    text = (PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if not m:
        raise SiteError(f'no __version__ = "..." line in {PACKAGE_DIR / "__init__.py"}')
    return m.group(1)


def wheel_name() -> str:
    return WHEEL_PATTERN.format(version=package_version())


def wheel_inputs() -> list[Path]:
    """Every file the wheel is built from: the package's files and :data:`WHEEL_INPUTS`."""
    files = [
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file()
        and not (_IGNORED_PARTS & set(p.relative_to(PACKAGE_DIR).parts))
        and p.suffix != ".pyc"
    ]
    files += [REPO_ROOT / name for name in WHEEL_INPUTS if (REPO_ROOT / name).is_file()]
    return sorted(files)


def wheel_fingerprint() -> str:
    """Hash of the wheel's input files (names and bytes) and of the hatchling that builds it."""
    digest = hashlib.sha256()
    try:
        digest.update(importlib.metadata.version("hatchling").encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"no hatchling")
    for path in wheel_inputs():
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def build_wheel(cache: Path) -> Path:
    """The wheel of the working tree, from ``cache`` when its sources are unchanged.

    Built by hatchling's PEP 517 hook in a subprocess (a reproducible wheel: fixed timestamps,
    so the same sources give the same bytes); only the current fingerprint's wheel is kept.
    """
    key = wheel_fingerprint()
    folder = cache / key
    wheel = folder / wheel_name()
    if wheel.is_file():
        return wheel
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="wheel-", dir=cache.parent))
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
                str(tmp),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        built = tmp / result.stdout.strip().splitlines()[-1] if result.stdout.strip() else None
        if result.returncode != 0 or built is None or not built.is_file():
            raise SiteError(
                "building the sgdbook wheel failed (hatchling is in requirements/lock.txt):\n"
                + (result.stderr or result.stdout)[-3000:]
            )
        if built.name != wheel.name:
            raise SiteError(f"hatchling built {built.name}, expected {wheel.name}")
        if cache.is_dir():
            shutil.rmtree(cache)
        folder.mkdir(parents=True)
        built.replace(wheel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return wheel


# --------------------------------------------------------------------------------------------
# The requirements
# --------------------------------------------------------------------------------------------
def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(lock: Path = LOCK) -> dict[str, str]:
    """Each pin of the lock, by normalised name: its lines as written (hashes included)."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if m:
            current = entries.setdefault(normalise(m.group(1)), [])
            current.append(line)
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line)
        else:
            current = None
    return {name: "\n".join(lines) for name, lines in entries.items()}


def wheel_requirements(wheel: Path, extra: str = READER_EXTRA) -> list[str]:
    """The wheel's ``Requires-Dist`` lines that apply without extras or with ``extra``."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    wanted = []
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith("Requires-Dist:"):
            spec = line.split(":", 1)[1].strip()
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                wanted.append(spec)
    return wanted


def closure(requirements: list[str]) -> list[str]:
    """Normalised names of ``requirements`` and everything they need, in this environment.

    Markers are evaluated for the running interpreter and platform (the lock's); a dependency
    asked for with extras brings those extras' dependencies.
    """
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = normalise(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.distribution(req.name).requires or []
        except importlib.metadata.PackageNotFoundError as exc:
            raise SiteError(
                f"{req.name} is needed to run the notebooks but is not installed here "
                "(install the lock: tools/setup-env.sh)"
            ) from exc
        extras = sorted(req.extras) or [""]
        for spec in requires:
            dep = Requirement(spec)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras):
                todo.append(dep)
    return sorted(seen)


def pinned_version(name: str, lock: Path = LOCK) -> str:
    """The version the lock pins ``name`` to (``torch`` → ``2.13.0``)."""
    entry = lock_entries(lock).get(normalise(name))
    if entry is None:
        raise SiteError(f"{name} is not pinned in {lock}")
    return entry.split("==", 1)[1].split()[0]


def reader_requirements(wheel: Path, lock: Path = LOCK) -> str:
    """The text of :data:`REQUIREMENTS_NAME`: the closure of the wheel's requirements, pinned
    by the lock's lines (hashes included), in the lock's order."""
    entries = lock_entries(lock)
    names = closure(wheel_requirements(wheel))
    missing = [n for n in names if n not in entries]
    if missing:
        raise SiteError(
            f"{', '.join(missing)}: needed to run the notebooks but not pinned in {lock}"
        )
    order = list(entries)
    pins = "\n".join(entries[n] for n in sorted(names, key=order.index))
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        "# 运行本书各章笔记本所需的依赖（sgdbook 包除外），版本与构建本书时相同，每个文件按 sha256 固定。\n"
        "# The requirements of the book's notebooks, pinned with hashes: generated from the book's\n"
        "# requirements/lock.txt when the site is built (do not edit).\n"
        "#\n"
        f"# Linux x86-64, Python {py}（本书构建和测试所用的平台）：\n"
        "#   python3 -m venv sgdbook-env && . sgdbook-env/bin/activate\n"
        f"#   pip install --no-deps torch=={pinned_version('torch', lock)} --index-url {TORCH_CPU_INDEX}\n"
        f"#   pip install --require-hashes -r {REQUIREMENTS_NAME}\n"
        f"#   pip install --no-deps {wheel.name}\n"
        "# 其他系统和运行方法见任一章下载的 .ipynb 的第一个单元格。\n"
        f"{pins}\n"
    )


def cached_reader_requirements(wheel: Path, cache: Path, lock: Path = LOCK) -> str:
    """:func:`reader_requirements`, remembered by the wheel, the lock and the interpreter."""
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(wheel.parent.name.encode() + wheel.name.encode() + sys.version.encode())
    path = cache / f"requirements-{digest.hexdigest()[:20]}.txt"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    text = reader_requirements(wheel, lock)
    for old in cache.glob("requirements-*.txt"):
        old.unlink()
    cache.mkdir(parents=True, exist_ok=True)
    _write_if_changed(path, text.encode("utf-8"))
    return text


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_file() or path.read_bytes() != data:
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)


def write_package_downloads(outdir: Path, cache: Path) -> tuple[Path, Path]:
    """Put the wheel and the requirements at ``outdir`` (unchanged files are not rewritten).

    ``cache`` holds the built wheel (``wheel/<fingerprint>/``) and the requirements' text.
    """
    wheel = build_wheel(cache / "wheel")
    target = outdir / wheel.name
    if not (target.is_file() and filecmp.cmp(wheel, target, shallow=False)):
        shutil.copyfile(wheel, target)
    for old in outdir.glob(WHEEL_PATTERN.format(version="*")):
        if old.name != wheel.name:
            old.unlink()
    requirements = outdir / REQUIREMENTS_NAME
    _write_if_changed(requirements, cached_reader_requirements(wheel, cache).encode("utf-8"))
    return target, requirements


# --------------------------------------------------------------------------------------------
# The notebooks
# --------------------------------------------------------------------------------------------
def install_note(notebook_file: str, wheel_file: str, torch_version: str) -> str:
    """The first cell of a downloaded notebook: how to install what it needs and run it.

    One line per paragraph: Jupyter's Markdown turns a line break inside a paragraph into a
    space, which would show between two Chinese characters.
    """
    paragraphs = [
        "**在自己的电脑上运行本笔记本**",
        "本笔记本是本书一章的可执行版本，保存的输出是构建本书时的运行结果。运行它需要 `sgdbook` 包和"
        "固定版本的依赖，二者都在本书网站每一页的下载菜单里："
        f"`{wheel_file}` 和 `{REQUIREMENTS_NAME}`。把它们和本笔记本放进同一个文件夹，"
        "在该文件夹里执行（Linux x86-64，与本书的构建环境相同）：",
        "```bash\n"
        "python3 -m venv sgdbook-env\n"
        ". sgdbook-env/bin/activate\n"
        f"pip install --no-deps torch=={torch_version} --index-url {TORCH_CPU_INDEX}\n"
        f"pip install --require-hashes -r {REQUIREMENTS_NAME}\n"
        f"pip install --no-deps {wheel_file}\n"
        f"jupyter execute --inplace {notebook_file}\n"
        "```",
        "第三行装 PyTorch 的 CPU 构建（不先装它，pip 会在 Linux 上选 PyPI 的 CUDA 构建）；想用 NVIDIA GPU，"
        f"就把它换成 `pip install torch=={torch_version}`。最后一行从头到尾运行整个笔记本，把新的输出写回"
        "文件；也可以在 JupyterLab 或 VS Code 里打开它，选 `sgdbook-env` 的 Python 作为内核（已经装有 "
        "Jupyter 的话，先执行 `python -m ipykernel install --user --name sgdbook`）。",
        "在 macOS 和 Windows 上（未经测试）：不需要第三行（PyPI 上的 torch 就是 CPU 构建，其哈希也在清单里）；"
        "`pip install --require-hashes -r` 那一行加上 `--no-deps`，再补装清单之外的一个小依赖：macOS 上 `pip install appnope`，Windows 上 "
        "`pip install colorama`（Windows 上激活虚拟环境用 `sgdbook-env\\Scripts\\activate`）。",
        "正文里形如 {glue:text}`名字:格式` 的标记，在网页上是代码算出的数值；这里它们以 `名字 = 值` "
        "的形式显示在计算它们的单元格下面。公式、定理框和交叉引用保留 MyST 源码，排好版的文本见本书网站。",
        "---",
    ]
    return "\n\n".join(paragraphs) + "\n"


def _plain_glue(notebook) -> None:
    """Replace myst-nb's hidden glue outputs by the ``name = value`` lines of sgdbook's glue."""
    import nbformat

    from sgdbook.notebook import plain_text

    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for i, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            scrap = output.get("metadata", {}).get("scrapbook", {})
            hidden = {
                k[len(GLUE_PREFIX) :]: v for k, v in data.items() if k.startswith(GLUE_PREFIX)
            }
            if output.get("output_type") == "display_data" and hidden and "name" in scrap:
                cell.outputs[i] = nbformat.v4.new_output(
                    "display_data", data={"text/plain": f"{scrap['name']} = {plain_text(hidden)}"}
                )


def _merged_outputs(app: Sphinx, notebook):
    """``notebook`` with its outputs merged in from the execution cache, when it has none."""
    if any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"):
        return notebook
    cache = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if not (cache / "global.db").is_file():
        return notebook
    try:
        from jupyter_cache import get_cache

        jc = get_cache(str(cache))
        jc.get_cache_bundle = _pickled_bundles(jc, cache_dir(app) / "executed")
        _, merged = jc.merge_match_into_notebook(notebook)
    except Exception:  # no cached match: the notebook without outputs is still the chapter
        return notebook
    return merged


def _pickled_bundles(jc, folder: Path):
    """``jc.get_cache_bundle`` reading each executed notebook from a pickle of it.

    jupyter-cache parses and validates the executed notebook's JSON (figures included) each
    time: most of the time a prose edit spent making the chapter's download. The pickle is
    keyed by the record's hash and the cached file's size and mtime (a re-execution of the
    same code replaces the file); only the newest pickle of each record is kept.
    """
    import pickle
    from types import SimpleNamespace

    from jupyter_cache.cache.db import NbCacheRecord

    original = jc.get_cache_bundle

    def bundle(pk: int):
        record = NbCacheRecord.record_from_pk(pk, jc.db)
        stat = jc._get_notebook_path_cache(record.hashkey).stat()
        store = folder / f"{record.hashkey}-{stat.st_size}-{stat.st_mtime_ns}.pickle"
        if store.is_file():
            return SimpleNamespace(nb=pickle.loads(store.read_bytes()))
        nb = original(pk).nb
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{record.hashkey}-*.pickle"):
            old.unlink()
        store.write_bytes(pickle.dumps(nb, pickle.HIGHEST_PROTOCOL))
        return SimpleNamespace(nb=nb)

    return bundle


def reader_notebook(app: Sphinx, nb_path: Path, notebook_file: str) -> bytes:
    """The notebook a reader downloads: executed outputs, plain glue values, the install note."""
    context = app.config.html_context
    import nbformat

    notebook = nbformat.reads(nb_path.read_text(encoding="utf-8"), as_version=4)
    notebook = _merged_outputs(app, notebook)
    _plain_glue(notebook)
    note = nbformat.v4.new_markdown_cell(
        install_note(notebook_file, context["sgdbook_wheel"], context["sgdbook_torch"]),
        metadata={"tags": [NOTE_TAG]},
    )
    note.pop("id", None)  # ids: nbformat 4.5 notebooks only; myst-nb writes 4.4 without them
    notebook.cells.insert(0, note)
    if notebook.nbformat_minor >= 5:
        # ids made from the position: jupytext gives each cell a random id every time the page
        # is read, so two builds of the same chapter would offer different files
        for i, cell in enumerate(notebook.cells):
            cell["id"] = NOTE_TAG if i == 0 else f"cell-{i}"
    return nbformat.writes(notebook).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Sphinx events
# --------------------------------------------------------------------------------------------
def _wheel_file(app: Sphinx) -> str:
    return app.config.html_context["sgdbook_wheel"]


def _config_inited(app: Sphinx, config) -> None:
    # In the HTML context, so that a new version (a new file name in every menu and notebook)
    # makes Sphinx write every page again.
    context = dict(config.html_context or {})
    context["sgdbook_wheel"] = wheel_name()
    context["sgdbook_torch"] = pinned_version("torch")
    config.html_context = context


def _add_notebook_download(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    if doctree is None:
        return
    nb_path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not nb_path.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = reader_notebook(app, nb_path, f"{Path(pagename).name}.ipynb")
    _write_if_changed(target, data)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _link_package(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if app.builder.format != "html":
        return
    add_download_button(
        context,
        path=_wheel_file(app),
        text="sgdbook 包 .whl",
        tooltip="运行下载的笔记本所需的 sgdbook 包（pip install），安装方法见笔记本的第一个单元格",
        icon="fas fa-box",
        label="download-wheel-button",
    )
    add_download_button(
        context,
        path=REQUIREMENTS_NAME,
        text="依赖清单 .txt",
        tooltip="运行笔记本所需依赖的固定版本（pip install --require-hashes -r）",
        icon="fas fa-list",
        label="download-requirements-button",
    )


def _build_finished(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html":
        write_package_downloads(Path(app.outdir), cache_dir(app) / "downloads")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _add_notebook_download, priority=400)
    app.connect("html-page-context", _link_package, priority=504)  # after the PDF and the zip
    # before the offline zip (990) is written, so that it holds both files
    app.connect("build-finished", _build_finished, priority=500)
    return {"version": "3.0", "parallel_read_safe": True, "parallel_write_safe": False}
