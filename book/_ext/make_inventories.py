"""Write the intersphinx inventories the book ships (book/_ext/inventories/*.inv).

The book builds offline, so intersphinx cannot download ``objects.inv`` from docs.python.org,
numpy.org, pytorch.org or matplotlib.org. This script writes equivalent inventories by
introspecting the installed packages, with each name pointing at its page in the real online
documentation (the URL layouts of those sites as of 2026: e.g.
``https://pytorch.org/docs/stable/generated/torch.optim.SGD.html#torch.optim.SGD``). Classes are
listed under their public name and under their defining module (``torch.optim.optimizer.
Optimizer``), which is what autodoc writes for base classes.

Run it after upgrading numpy, torch, matplotlib or Python (from the repository root)::

    PYTHONPATH=. .venv/bin/python book/_ext/make_inventories.py
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import sys
import types
import zlib
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "inventories"

Entry = tuple[str, str, str]  # (name, "py:role", uri relative to the docs root)


def _role(obj: object) -> str:
    if inspect.ismodule(obj):
        return "py:module"
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return "py:data"


def _public(module: types.ModuleType) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in names:
        try:
            found.append((name, getattr(module, name)))
        except Exception:  # lazy attributes that fail to import
            continue
    return found


def _canonical(obj: object) -> str | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        return f"{module}.{qualname}"
    return None


class Inventory:
    def __init__(self, project: str, version: str) -> None:
        self.project, self.version = project, version
        self.entries: dict[tuple[str, str], str] = {}

    def add(self, name: str, role: str, uri: str) -> None:
        self.entries.setdefault((name, role), uri)

    def add_object(self, name: str, obj: object, uri: str) -> None:
        role = _role(obj)
        self.add(name, role, uri)
        if role in {"py:class", "py:exception"}:
            canonical = _canonical(obj)
            if canonical and canonical != name:
                self.add(canonical, role, uri)

    def override(self, name: str, uri: str, role: str = "py:class") -> None:
        """Point ``name`` and every alias documented at the same anchor to ``uri``."""
        for key, old in self.entries.items():
            if key[0] == name or old.endswith("#" + name):
                self.entries[key] = uri
        self.add(name, role, uri)

    def write(self, path: Path) -> int:
        lines = []
        for (name, role), uri in sorted(self.entries.items()):
            anchor = uri.split("#", 1)[1] if "#" in uri else ""
            if anchor == name:
                uri = uri[: -len(anchor)] + "$"
            lines.append(f"{name} {role} 1 {uri} -")
        header = (
            f"# Sphinx inventory version 2\n# Project: {self.project}\n"
            f"# Version: {self.version}\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        path.write_bytes(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode()))
        return len(lines)


# --------------------------------------------------------------------------------------------
def python_inventory() -> Inventory:
    inv = Inventory("Python", f"{sys.version_info.major}.{sys.version_info.minor}")
    for name, obj in vars(builtins).items():
        if name.startswith("_"):
            continue
        if name in {"None", "True", "False", "Ellipsis", "NotImplemented"}:
            inv.add(name, "py:data", f"library/constants.html#{name}")
        elif inspect.isclass(obj) and issubclass(obj, BaseException):
            inv.add(name, "py:exception", f"library/exceptions.html#{name}")
        elif inspect.isclass(obj):
            inv.add(name, "py:class", f"library/functions.html#{name}")
        elif callable(obj):
            inv.add(name, "py:function", f"library/functions.html#{name}")
    inv.add("object", "py:class", "library/functions.html#object")
    modules = [
        "typing",
        "collections",
        "collections.abc",
        "pathlib",
        "dataclasses",
        "functools",
        "itertools",
        "math",
        "cmath",
        "time",
        "os",
        "enum",
        "abc",
        "contextlib",
        "statistics",
        "random",
        "numbers",
        "types",
        "warnings",
        "json",
        "logging",
        "concurrent.futures",
        "threading",
        "multiprocessing",
        "timeit",
        "operator",
        "fractions",
        "decimal",
        "io",
        "copy",
        "heapq",
        "bisect",
        "platform",
        "subprocess",
        "tempfile",
        "hashlib",
        "datetime",
        "re",
        "string",
        "textwrap",
        "inspect",
    ]
    for modname in modules:
        module = importlib.import_module(modname)
        page = f"library/{modname}.html"
        inv.add(modname, "py:module", f"{page}#module-{modname}")
        for name, obj in _public(module):
            if inspect.ismodule(obj):
                continue
            full = f"{modname}.{name}"
            inv.add_object(full, obj, f"{page}#{full}")
            if inspect.isclass(obj) and modname != "typing":
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and callable(member):
                        inv.add(f"{full}.{attr}", "py:method", f"{page}#{full}.{attr}")
    return inv


# --------------------------------------------------------------------------------------------
def numpy_inventory() -> Inventory:
    import numpy as np
    import numpy.typing

    inv = Inventory("NumPy", np.__version__)
    gen = "reference/generated"
    inv.add("numpy", "py:module", "reference/index.html#module-numpy")
    for name, obj in _public(np):
        if inspect.ismodule(obj):
            continue
        full = f"numpy.{name}"
        if inspect.isclass(obj) and issubclass(obj, np.generic):
            uri = f"reference/arrays.scalars.html#{full}"
        else:
            uri = f"{gen}/{full}.html#{full}"
        inv.add_object(full, obj, uri)
    for attr in dir(np.ndarray):
        if not attr.startswith("_"):
            full = f"numpy.ndarray.{attr}"
            role = "py:method" if callable(getattr(np.ndarray, attr)) else "py:attribute"
            inv.add(full, role, f"{gen}/{full}.html#{full}")
    for sub, _page in [("linalg", None), ("fft", None), ("random", "random")]:
        module = importlib.import_module(f"numpy.{sub}")
        inv.add(
            f"numpy.{sub}",
            "py:module",
            f"reference/routines.{sub}.html#module-numpy.{sub}"
            if sub != "random"
            else "reference/random/index.html#module-numpy.random",
        )
        for name, obj in _public(module):
            if inspect.ismodule(obj):
                continue
            full = f"numpy.{sub}.{name}"
            uri = (
                f"reference/random/generated/{full}.html#{full}"
                if sub == "random"
                else f"{gen}/{full}.html#{full}"
            )
            inv.add_object(full, obj, uri)
    inv.override("numpy.random.Generator", "reference/random/generator.html#numpy.random.Generator")
    inv.override(
        "numpy.random.default_rng",
        "reference/random/generator.html#numpy.random.default_rng",
        "py:function",
    )
    for attr in dir(np.random.Generator):
        if not attr.startswith("_"):
            full = f"numpy.random.Generator.{attr}"
            inv.add(full, "py:method", f"reference/random/generated/{full}.html#{full}")
    for name in ["ArrayLike", "DTypeLike", "NDArray", "NBitBase"]:
        role = "py:class" if name == "NBitBase" else "py:data"
        inv.add(f"numpy.typing.{name}", role, f"reference/typing.html#numpy.typing.{name}")
        inv.add(f"numpy.typing.{name}", "py:class", f"reference/typing.html#numpy.typing.{name}")
    inv.add("numpy.typing", "py:module", "reference/typing.html#module-numpy.typing")
    # Common aliases (``import numpy as np``, ``import numpy.typing as npt``) as written in
    # string annotations that autodoc could not evaluate.
    for (name, role), uri in list(inv.entries.items()):
        if name.startswith("numpy.typing."):
            inv.add("npt." + name[len("numpy.typing.") :], role, uri)
        elif name.startswith("numpy."):
            inv.add("np." + name[len("numpy.") :], role, uri)
    return inv


# --------------------------------------------------------------------------------------------
def torch_inventory() -> Inventory:
    import torch
    import torch.nn.functional
    import torch.optim.lr_scheduler
    import torch.utils.data

    inv = Inventory("PyTorch", torch.__version__.split("+")[0])
    gen = "generated"
    special = {
        "torch.Tensor": "tensors.html#torch.Tensor",
        "torch.device": "tensor_attributes.html#torch.device",
        "torch.dtype": "tensor_attributes.html#torch.dtype",
        "torch.layout": "tensor_attributes.html#torch.layout",
        "torch.memory_format": "tensor_attributes.html#torch.memory_format",
        "torch.Size": "size.html#torch.Size",
        "torch.optim.Optimizer": "optim.html#torch.optim.Optimizer",
        "torch.nn.Parameter": f"{gen}/torch.nn.parameter.Parameter.html#torch.nn.parameter.Parameter",
    }
    modules = {
        "torch": "torch.html#module-torch",
        "torch.nn": "nn.html#module-torch.nn",
        "torch.nn.functional": "nn.functional.html#module-torch.nn.functional",
        "torch.optim": "optim.html#module-torch.optim",
        "torch.optim.lr_scheduler": "optim.html#module-torch.optim.lr_scheduler",
        "torch.utils.data": "data.html#module-torch.utils.data",
        "torch.cuda": "cuda.html#module-torch.cuda",
        "torch.linalg": "linalg.html#module-torch.linalg",
        "torch.autograd": "autograd.html#module-torch.autograd",
        "torch.func": "func.api.html#module-torch.func",
        "torch.random": "random.html#module-torch.random",
        "torch.backends": "backends.html#module-torch.backends",
    }
    for modname, uri in modules.items():
        try:
            module = importlib.import_module(modname)
        except Exception:
            continue
        inv.add(modname, "py:module", uri)
        for name, obj in _public(module):
            if inspect.ismodule(obj):
                continue
            full = f"{modname}.{name}"
            if modname == "torch.utils.data":
                target = f"data.html#{full}"
            elif modname == "torch.optim" and inspect.isclass(obj) and name != "Optimizer":
                target = f"{gen}/{full}.html#{full}"
            else:
                target = special.get(full, f"{gen}/{full}.html#{full}")
            inv.add_object(full, obj, target)
    for name, target in special.items():
        inv.override(name, target)
    for attr in dir(torch.Tensor):
        if not attr.startswith("_"):
            full = f"torch.Tensor.{attr}"
            member = getattr(torch.Tensor, attr, None)
            role = "py:method" if callable(member) else "py:attribute"
            inv.add(full, role, f"{gen}/{full}.html#{full}")
    for cls in (torch.optim.Optimizer, torch.nn.Module):
        public = "torch.optim.Optimizer" if cls is torch.optim.Optimizer else "torch.nn.Module"
        for attr, member in vars(cls).items():
            if not attr.startswith("_") and callable(member):
                full = f"{public}.{attr}"
                inv.add(full, "py:method", f"{gen}/{full}.html#{full}")
    return inv


# --------------------------------------------------------------------------------------------
def matplotlib_inventory() -> Inventory:
    import matplotlib
    import matplotlib.axes
    import matplotlib.collections
    import matplotlib.colors
    import matplotlib.figure
    import matplotlib.font_manager
    import matplotlib.lines
    import matplotlib.pyplot
    import matplotlib.text

    inv = Inventory("Matplotlib", matplotlib.__version__)
    gen = "api/_as_gen"
    inv.add("matplotlib", "py:module", "api/matplotlib_configuration_api.html#module-matplotlib")
    inv.add(
        "matplotlib.rcParams",
        "py:data",
        "api/matplotlib_configuration_api.html#matplotlib.rcParams",
    )
    inv.add_object(
        "matplotlib.axes.Axes",
        matplotlib.axes.Axes,
        f"{gen}/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
    )
    for attr, member in inspect.getmembers(matplotlib.axes.Axes):
        if not attr.startswith("_") and callable(member):
            full = f"matplotlib.axes.Axes.{attr}"
            inv.add(full, "py:method", f"{gen}/{full}.html#{full}")
    for name in ["Figure", "SubFigure", "FigureBase"]:
        inv.add_object(
            f"matplotlib.figure.{name}",
            getattr(matplotlib.figure, name),
            f"api/figure_api.html#matplotlib.figure.{name}",
        )
    for attr, member in inspect.getmembers(matplotlib.figure.Figure):
        if not attr.startswith("_") and callable(member):
            full = f"matplotlib.figure.Figure.{attr}"
            inv.add(full, "py:method", f"api/figure_api.html#{full}")
    inv.add("matplotlib.pyplot", "py:module", "api/pyplot_summary.html#module-matplotlib.pyplot")
    for name, obj in _public(matplotlib.pyplot):
        if inspect.isfunction(obj):
            inv.add(
                f"matplotlib.pyplot.{name}",
                "py:function",
                f"{gen}/matplotlib.pyplot.{name}.html#matplotlib.pyplot.{name}",
            )
    for modname, page in [
        ("matplotlib.colors", None),
        ("matplotlib.lines", None),
        ("matplotlib.text", None),
        ("matplotlib.collections", "collections_api"),
        ("matplotlib.font_manager", "font_manager_api"),
    ]:
        module = importlib.import_module(modname)
        inv.add(
            modname,
            "py:module",
            f"api/{(page or modname.split('.')[1] + '_api')}.html#module-{modname}",
        )
        for name, obj in _public(module):
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if getattr(obj, "__module__", "") != modname:
                    continue
                full = f"{modname}.{name}"
                uri = f"api/{page}.html#{full}" if page else f"{gen}/{full}.html#{full}"
                inv.add_object(full, obj, uri)
    return inv


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, factory in [
        ("python", python_inventory),
        ("numpy", numpy_inventory),
        ("torch", torch_inventory),
        ("matplotlib", matplotlib_inventory),
    ]:
        count = factory().write(OUT_DIR / f"{name}.inv")
        print(f"{name}: {count} entries -> {OUT_DIR / (name + '.inv')}")


if __name__ == "__main__":
    main()
