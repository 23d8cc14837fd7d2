"""Downloads that run outside the repository (book/_ext/sgdbook_site/downloads.py).

* The package: ``python -m build`` makes an sdist and a wheel that pass ``twine check --strict``,
  with every module and data file, the version from ``sgdbook/__init__.py`` and the licences;
  the site's wheel (built by the extension, cached by its sources' fingerprint) is the same.
* The requirements the site offers: the closure of the wheel's dependencies and its
  ``notebooks`` extra, each pin copied with its hashes from requirements/lock.txt.
* The site: every page's download menu links the wheel and the requirements; every downloaded
  notebook opens with the install note and shows glued values plainly.
* The reader's run (``downloads`` marker, a few minutes): a fresh virtual environment outside the
  repository gets torch's CPU build (requirements/torch-cpu.txt, as tools/setup-env.sh does), the
  site's requirements with ``--require-hashes`` and the site's wheel, nothing else; then every
  downloaded notebook is run there to the end with ``jupyter execute``.
"""

from __future__ import annotations

import concurrent.futures
import email.parser
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest
import tomllib
from conftest import BOOK, REPO, toc_docnames
from packaging.markers import default_environment
from packaging.requirements import Requirement

import sgdbook

sys.path.insert(0, str(BOOK / "_ext"))
from sgdbook_site import downloads

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, **{"timeout": 900, **kwargs}
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {result.returncode}:\n"
        f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


def tracked_package_files() -> list[str]:
    """The package's files as git tracks them (what a clean checkout has)."""
    out = _run(["git", "ls-files", "sgdbook"], cwd=REPO).stdout.split()
    assert any(p.endswith(".otf") for p in out), "the bundled font is not tracked?"
    return sorted(out)


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def _members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


# --------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """``python -m build`` (sdist, then the wheel from the sdist) with the locked hatchling."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO], cwd=out)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist, "dir": out}


def test_version_has_one_home():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "sgdbook/__init__.py"
    assert downloads.package_version() == sgdbook.__version__


def test_build_and_twine_check(dist):
    result = _run(
        [sys.executable, "-m", "twine", "check", "--strict", dist["wheel"], dist["sdist"]]
    )
    assert result.stdout.count("PASSED") == 2, result.stdout
    assert dist["wheel"].name == downloads.wheel_name()
    assert dist["sdist"].name == f"sgdbook-{sgdbook.__version__}.tar.gz"


def test_wheel_holds_the_package_and_its_data(dist):
    names = set(_members(dist["wheel"]))
    missing = [p for p in tracked_package_files() if p not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "sgdbook/fonts/NotoSansSC-GB2312.otf" in names  # plotting.CJK_FONT_FILE
    assert "sgdbook/fonts/OFL.txt" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    top = {n.split("/")[0] for n in names}
    assert top == {"sgdbook", f"sgdbook-{sgdbook.__version__}.dist-info"}
    dist_info = f"sgdbook-{sgdbook.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert f"{dist_info}/licenses/sgdbook/fonts/OFL.txt" in names


def test_wheel_metadata(dist):
    meta = _metadata(dist["wheel"])
    project = PYPROJECT["project"]
    assert meta["Name"] == "sgdbook"
    assert meta["Version"] == sgdbook.__version__
    assert meta["Requires-Python"] == project["requires-python"]
    assert meta["License-Expression"] == "MIT AND OFL-1.1"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (REPO / "README.md").read_text(encoding="utf-8").strip()
    assert set(meta.get_all("Classifier")) == set(project["classifiers"])
    base = {str(Requirement(r)) for r in meta.get_all("Requires-Dist") if ";" not in r}
    assert base == {str(Requirement(r)) for r in project["dependencies"]}
    assert "notebooks" in meta.get_all("Provides-Extra")


def test_sdist_holds_only_the_package(dist):
    with tarfile.open(dist["sdist"]) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert {p for p in tracked_package_files()} <= names
    assert not [n for n in names if n.startswith(("book/", "tests/", "node_modules/", "docs/"))]


def test_site_wheel_is_the_standard_build(dist, tmp_path):
    """The extension's wheel (hatchling from the working tree) equals ``python -m build``'s."""
    site_wheel = downloads.build_wheel(tmp_path / "wheel")
    assert site_wheel.name == dist["wheel"].name
    assert _members(site_wheel) == _members(dist["wheel"])
    assert site_wheel.read_bytes() == dist["wheel"].read_bytes()  # reproducible


def _copy_project(root: Path) -> None:
    shutil.copytree(
        REPO / "sgdbook", root / "sgdbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in downloads.WHEEL_INPUTS:
        shutil.copy(REPO / name, root / name)


def test_wheel_cache_follows_the_package_sources(tmp_path, monkeypatch):
    project = tmp_path / "project"
    _copy_project(project)
    monkeypatch.setattr(downloads, "REPO_ROOT", project)
    monkeypatch.setattr(downloads, "PACKAGE_DIR", project / "sgdbook")
    cache = tmp_path / "cache" / "wheel"
    first = downloads.build_wheel(cache)
    built = []
    real_run = subprocess.run
    monkeypatch.setattr(
        downloads.subprocess, "run", lambda *a, **k: built.append(a) or real_run(*a, **k)
    )
    assert downloads.build_wheel(cache) == first and not built  # unchanged: from the cache
    # what is not in the wheel does not count (a chapter's prose lives in book/)
    (project / "book").mkdir()
    (project / "book" / "sgd.md").write_text("prose edit", encoding="utf-8")
    (project / "sgdbook" / "__pycache__").mkdir(exist_ok=True)
    (project / "sgdbook" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert downloads.build_wheel(cache) == first and not built
    # a change of the package builds it again, and only the new wheel is kept
    key = first.parent.name
    with (project / "sgdbook" / "optim" / "ema.py").open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    second = downloads.build_wheel(cache)
    assert len(built) == 1 and second.parent.name != key
    assert _members(second)["sgdbook/optim/ema.py"].endswith(b"# edited\n")
    assert [p.name for p in cache.iterdir()] == [second.parent.name]


# --------------------------------------------------------------------------------------------
# The requirements
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site_wheel(tmp_path_factory) -> Path:
    return downloads.build_wheel(tmp_path_factory.mktemp("site-wheel") / "wheel")


def _pins(text: str) -> dict[str, str]:
    """``name -> block`` of a requirements text (the pin line and its hash lines)."""
    blocks = re.split(
        r"\n(?=[A-Za-z0-9])", "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    )
    return {downloads.normalise(b.split("==")[0]): b.strip() for b in blocks if b.strip()}


def _dependencies(name: str, extras=("",)) -> set[str]:
    found = set()
    for spec in importlib.metadata.distribution(name).requires or []:
        req = Requirement(spec)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras):
            found.add(downloads.normalise(req.name))
    return found


def test_requirements_are_the_locks_pins(site_wheel):
    text = downloads.reader_requirements(site_wheel)
    pins = _pins(text)
    lock = _pins((REPO / "requirements" / "lock.txt").read_text(encoding="utf-8"))
    # each pin, with its hashes, exactly as the lock has it
    assert {n: lock.get(n) for n in pins} == pins
    assert all("--hash=sha256:" in block for block in pins.values())
    # the wheel's dependencies, a kernel and nbclient, and everything they need here
    wanted = {
        downloads.normalise(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]
    }
    wanted |= {
        downloads.normalise(Requirement(r).name)
        for r in PYPROJECT["project"]["optional-dependencies"]["notebooks"]
    }
    assert wanted <= set(pins)
    unmet = {(n, d) for n in pins for d in _dependencies(n) if d not in pins}
    assert not unmet, f"dependencies not pinned: {sorted(unmet)}"
    # nothing the reader does not need: no book toolchain, no test tools
    assert not {"myst-nb", "jupyter-book", "sphinx", "pytest", "hypothesis", "ruff", "build"} & set(
        pins
    )


def test_requirements_accept_torchs_cpu_build():
    """torch's pin lists the hash of the CPU wheel tools/setup-env.sh installs."""
    cpu = (REPO / "requirements" / "torch-cpu.txt").read_text(encoding="utf-8")
    (cpu_hash,) = re.findall(r"--hash=sha256:([0-9a-f]{64})", cpu)
    torch_pin = _pins((REPO / "requirements" / "lock.txt").read_text(encoding="utf-8"))["torch"]
    assert cpu_hash in torch_pin
    assert downloads.pinned_version("torch") == re.search(r"torch==([\d.]+)", cpu).group(1)


def test_install_note_names_what_other_systems_miss(site_wheel):
    """The note's macOS/Windows advice names exactly the platform-only dependencies of the
    pinned closure that the lock (made on Linux) does not have."""
    pins = set(_pins(downloads.reader_requirements(site_wheel)))
    note = downloads.install_note("sgd.ipynb", site_wheel.name, downloads.pinned_version("torch"))
    for platform, system, os_name in [("darwin", "Darwin", "posix"), ("win32", "Windows", "nt")]:
        env = default_environment() | {
            "sys_platform": platform,
            "platform_system": system,
            "os_name": os_name,
            "extra": "",
        }
        extra = set()
        for name in pins:
            for spec in importlib.metadata.distribution(name).requires or []:
                req = Requirement(spec)
                if (
                    req.marker
                    and req.marker.evaluate(env)
                    and downloads.normalise(req.name) not in pins
                ):
                    extra.add(downloads.normalise(req.name))
        assert extra, platform
        for name in extra:
            assert f"pip install {name}`" in note, f"{platform}: the note does not name {name}"


def test_requirements_cache(site_wheel, tmp_path, monkeypatch):
    first = downloads.cached_reader_requirements(site_wheel, tmp_path)
    assert first == downloads.reader_requirements(site_wheel)
    monkeypatch.setattr(downloads, "reader_requirements", lambda *a: pytest.fail("not cached"))
    assert downloads.cached_reader_requirements(site_wheel, tmp_path) == first
    assert len(list(tmp_path.glob("requirements-*.txt"))) == 1


# --------------------------------------------------------------------------------------------
# The menu helper and the notebook transformation
# --------------------------------------------------------------------------------------------
def test_add_download_button():
    group = {"label": "download-buttons", "buttons": []}
    context = {"header_buttons": [{"label": "other"}, group], "pathto": lambda p, r: f"../{p}"}
    assert downloads.add_download_button(
        context, path="x.whl", text="包", tooltip="提示", icon="fas fa-box", label="b"
    )
    assert group["buttons"] == [
        {
            "type": "link",
            "url": "../x.whl",
            "text": "包",
            "tooltip": "提示",
            "icon": "fas fa-box",
            "label": "b",
        }
    ]
    assert not downloads.add_download_button(
        {"header_buttons": [], "pathto": None}, path="x", text="", tooltip="", icon="", label=""
    )


def test_glue_outputs_become_plain_lines():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue(...)")
    hidden = nbformat.v4.new_output(
        "display_data",
        data={downloads.GLUE_PREFIX + "text/plain": "0.125"},
        metadata={"scrapbook": {"name": "ch0_rate", "mime_prefix": downloads.GLUE_PREFIX}},
    )
    markdown = nbformat.v4.new_output(
        "display_data",
        data={
            downloads.GLUE_PREFIX + "text/plain": "<IPython.core.display.Markdown object>",
            downloads.GLUE_PREFIX + "text/markdown": "**更少**",
        },
        metadata={"scrapbook": {"name": "ch0_word", "mime_prefix": downloads.GLUE_PREFIX}},
    )
    shown = nbformat.v4.new_output(
        "display_data",
        data={"text/plain": "7"},
        metadata={"scrapbook": {"name": "ch0_shown", "mime_prefix": ""}},
    )
    stream = nbformat.v4.new_output("stream", name="stdout", text="hello\n")
    cell.outputs = [hidden, markdown, shown, stream]
    nb.cells = [cell]
    downloads._plain_glue(nb)
    assert [o.get("data", {}).get("text/plain") for o in nb.cells[0].outputs] == [
        "ch0_rate = 0.125",
        "ch0_word = **更少**",
        "7",
        None,
    ]
    assert nb.cells[0].outputs[3] == stream
    nbformat.validate(nb)


# --------------------------------------------------------------------------------------------
# The built site
# --------------------------------------------------------------------------------------------
def _glued_names(notebook) -> set[str]:
    names = set()
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("data", {}).get("text/plain", "")
            m = re.match(r"^(\S+) = ", text)
            if output.get("output_type") == "display_data" and m:
                names.add(m.group(1))
    return names


def _notebook_docs(html: Path) -> list[str]:
    return [d for d in toc_docnames() if (html / "_sources" / f"{d}.ipynb").is_file()]


@pytest.mark.book
def test_site_offers_the_wheel_and_the_requirements(built_book, tmp_path):
    wheel = built_book / downloads.wheel_name()
    requirements = built_book / downloads.REQUIREMENTS_NAME
    assert wheel.is_file() and requirements.is_file()
    assert requirements.read_text(encoding="utf-8") == downloads.reader_requirements(wheel)
    assert wheel.read_bytes() == downloads.build_wheel(tmp_path / "wheel").read_bytes()
    assert sorted(p.name for p in built_book.glob("sgdbook-*.whl")) == [wheel.name]
    problems = []
    for doc in toc_docnames():
        page = (built_book / f"{doc}.html").read_text(encoding="utf-8")
        up = "../" * doc.count("/")
        for label, target in [
            ("download-wheel-button", wheel.name),
            ("download-requirements-button", requirements.name),
        ]:
            link = re.search(rf'<a href="([^"]+)"[^>]*\n?[^>]*class="[^"]*btn-{label}', page)
            if not link or link.group(1) != up + target:
                problems.append(f"{doc}.html: no {label} linking {up + target}")
    assert not problems, "\n".join(problems)


@pytest.mark.book
def test_downloaded_notebooks_open_with_the_install_note(built_book):
    docs = _notebook_docs(built_book)
    assert len(docs) >= 7, docs  # the preface and six chapters
    torch_version = downloads.pinned_version("torch")
    for doc in docs:
        notebook = nbformat.read(built_book / "_sources" / f"{doc}.ipynb", as_version=4)
        nbformat.validate(notebook)
        first = notebook.cells[0]
        assert first.cell_type == "markdown" and downloads.NOTE_TAG in first.metadata["tags"]
        assert first.source == downloads.install_note(
            f"{Path(doc).name}.ipynb", downloads.wheel_name(), torch_version
        )
        for needed in (
            downloads.wheel_name(),
            downloads.REQUIREMENTS_NAME,
            f"jupyter execute --inplace {Path(doc).name}.ipynb",
            "--require-hashes",
            f"torch=={torch_version}",
        ):
            assert needed in first.source, f"{doc}: the note lacks {needed}"
        assert '"' not in re.sub(r"```.*?```|`[^`]*`", "", first.source, flags=re.S), doc
        # the chapter's own cells follow the note, unchanged in number
        executed = BOOK / "_build" / "jupyter_execute" / f"{doc}.ipynb"
        if executed.is_file():
            assert len(notebook.cells) == 1 + len(nbformat.read(executed, as_version=4).cells)
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
        assert not [
            o
            for o in outputs
            if any(k.startswith(downloads.GLUE_PREFIX) for k in o.get("data", {}))
        ], doc
        # every value the page's prose pastes is shown plainly in its notebook
        source = (BOOK / f"{doc}.md").read_text(encoding="utf-8")
        pasted = {
            m.split(":")[0]
            for m in re.findall(r"\{glue:(?:text|md)\}`([^`]+)`", source)
            if "::" not in m
        }
        missing = pasted - _glued_names(notebook)
        assert not missing, f"{doc}: pasted but not shown plainly: {sorted(missing)[:10]}"


# --------------------------------------------------------------------------------------------
# A reader's fresh environment
# --------------------------------------------------------------------------------------------
PROBE = """\
import importlib.util, sys
import sgdbook
print("PROBE", sys.executable, sgdbook.__file__, importlib.util.find_spec("myst_nb"))
"""


@pytest.mark.book
@pytest.mark.downloads
def test_downloaded_notebooks_run_in_a_fresh_environment(built_book, tmp_path_factory):
    torch_build = importlib.metadata.version("torch")
    if not torch_build.endswith("+cpu"):
        pytest.skip(
            f"torch {torch_build} here: the reader's CPU environment is tested where the CPU "
            "build is at hand (the CPU job; on the GPU runner pip has no CPU wheel to install)"
        )
    root = tmp_path_factory.mktemp("reader").resolve()
    assert REPO.resolve() not in root.parents
    venv = root / "sgdbook-env"
    _run([sys.executable, "-m", "venv", venv])
    python, bindir = venv / "bin" / "python", venv / "bin"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not k.startswith(("SGDBOOK_", "JUPYTER"))
    }
    env |= {
        "PATH": f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(root / "home"),
        "MPLCONFIGDIR": str(root / "mplconfig"),
    }
    (root / "home").mkdir()
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # as the note says, with the CPU build of torch from requirements/torch-cpu.txt (pip's local
    # wheel folder or the CPU index CI names), never PyPI's CUDA build
    _run(
        [*pip, "--no-deps", "--require-hashes", "-r", REPO / "requirements" / "torch-cpu.txt"],
        cwd=root,
        env=env,
    )
    _run(
        [*pip, "--require-hashes", "-r", built_book / downloads.REQUIREMENTS_NAME],
        cwd=root,
        env=env,
    )
    _run([*pip, "--no-deps", built_book / downloads.wheel_name()], cwd=root, env=env)

    listed = _run([python, "-m", "pip", "list", "--format=json"], cwd=root, env=env).stdout
    installed = {downloads.normalise(d["name"]): d["version"] for d in json.loads(listed)}
    pins = _pins((built_book / downloads.REQUIREMENTS_NAME).read_text(encoding="utf-8"))
    assert set(installed) == set(pins) | {"sgdbook", "pip"}
    assert installed["torch"].endswith("+cpu")
    assert installed["sgdbook"] == sgdbook.__version__
    for name, block in pins.items():
        assert installed[name].split("+")[0] == block.split("==")[1].split()[0], name

    # Matplotlib's first import in a fresh home builds its font cache (a message on stderr):
    # once, before the notebooks, as a reader's first session would
    _run([python, "-c", "import matplotlib.pyplot"], cwd=root, env=env)
    notebooks = root / "notebooks"
    notebooks.mkdir()
    docs = _notebook_docs(built_book)
    for doc in docs:
        notebook = nbformat.read(built_book / "_sources" / f"{doc}.ipynb", as_version=4)
        probe = nbformat.v4.new_code_cell(PROBE)
        probe.pop("id", None)
        if notebook.nbformat_minor >= 5:
            probe["id"] = "sgdbook-test-probe"
        notebook.cells.insert(1, probe)
        nbformat.write(notebook, notebooks / f"{Path(doc).name}.ipynb")

    def execute(doc: str) -> subprocess.CompletedProcess:
        path = notebooks / f"{Path(doc).name}.ipynb"
        return subprocess.run(
            [bindir / "jupyter", "execute", "--inplace", "--timeout=900", path.name],
            cwd=notebooks,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = dict(zip(docs, pool.map(execute, docs)))
    problems = []
    for doc, result in results.items():
        if result.returncode != 0:
            problems.append(
                f"{doc}: jupyter execute exited {result.returncode}:\n{result.stderr[-4000:]}"
            )
            continue
        ran = nbformat.read(notebooks / f"{Path(doc).name}.ipynb", as_version=4)
        code = [c for c in ran.cells if c.cell_type == "code"]
        if any(c.execution_count is None for c in code):
            problems.append(f"{doc}: not every code cell ran")
        outputs = [o for c in code for o in c.outputs]
        for o in outputs:
            if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr"):
                problems.append(
                    f"{doc}: {o.output_type} output: {str(o.get('text', o.get('evalue')))[:300]}"
                )
        probe = "".join(o.get("text", "") for o in code[0].outputs).split()
        if len(probe) != 4 or probe[0] != "PROBE":
            problems.append(f"{doc}: the probe cell printed {probe!r}")
            continue
        _, executable, package, myst_nb = probe
        if not executable.startswith(str(venv)) or not package.startswith(str(venv)):
            problems.append(f"{doc}: the kernel or sgdbook is not the fresh environment's: {probe}")
        if myst_nb != "None":
            problems.append(f"{doc}: myst_nb is importable in the reader's environment")
        shipped = nbformat.read(built_book / "_sources" / f"{doc}.ipynb", as_version=4)
        if _glued_names(ran) != _glued_names(shipped):
            problems.append(
                f"{doc}: glued names differ from the site's notebook: "
                f"{sorted(_glued_names(ran) ^ _glued_names(shipped))[:10]}"
            )
    assert not problems, "\n".join(problems)
