"""Argument checks shared by all of sgdbook's public functions: the one home of every check.

Every check takes the argument's name and its value, returns the value normalised (a Python
``float``/``int``/``bool``, a float array) and raises ``TypeError`` for a value of the wrong
kind and ``ValueError`` for a value out of range, with a message that names the argument and
repeats the value received. Each function's docstring says which input raises which error.

Scalars: :func:`real`, :func:`positive`, :func:`nonnegative`, :func:`unit_interval`,
:func:`integer`, :func:`boolean`, :func:`optional_boolean`. Arrays: :func:`vector`,
:func:`square_matrix`. Optimizer hyper-parameters: :func:`learning_rate`, :func:`betas`;
objects: :func:`torch_optimizer`. Added for the bad-input audit (issue 20): :func:`probability`,
:func:`positive_int`, :func:`seed`, :func:`choice`, :func:`callable_`, :func:`non_empty`,
:func:`array` (any shape, finite, real: a complex value is refused, never silently made real),
:func:`real_array` (numbers or arrays that broadcast, with a sign condition), :func:`tensor`
(a real floating-point torch tensor of a given rank), :func:`same_length` and
:func:`same_shape` (no silent broadcasting of a ``(1,)`` gradient onto a ``(3,)`` parameter).
Importing this module does not import torch (the checks that
involve tensors look torch up only if it is already loaded).
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np

__all__ = [
    "real",
    "positive",
    "nonnegative",
    "unit_interval",
    "integer",
    "boolean",
    "optional_boolean",
    "vector",
    "square_matrix",
    "learning_rate",
    "betas",
    "torch_optimizer",
]
__all__ += [
    "probability",
    "positive_int",
    "seed",
    "choice",
    "callable_",
    "non_empty",
    "array",
    "real_array",
    "tensor",
    "same_length",
    "same_shape",
    "open_unit_interval",
    "device",
    "update_arguments",
    "objective",
    "dtype",
    "seeds",
    "instance",
]


def _torch():
    """The torch module if it has been imported, else ``None`` (so this module stays cheap)."""
    return sys.modules.get("torch")


def _refuse_complex(name: str, value: Any) -> None:
    """Raise ``TypeError`` for complex data (numpy would drop the imaginary part with a warning)."""
    if isinstance(value, complex) or (isinstance(value, np.ndarray) and np.iscomplexobj(value)):
        raise TypeError(f"{name} must be real, got complex data {value!r}")
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor) and value.is_complex():
        raise TypeError(f"{name} must be real, got a complex tensor of dtype {value.dtype}")
    if isinstance(value, (list, tuple)):
        try:
            flat = np.ravel(np.array(value, dtype=object))
        except (TypeError, ValueError):
            return
        if any(isinstance(v, (complex, np.complexfloating)) for v in flat):
            raise TypeError(f"{name} must be real, got complex entries in {value!r}")


def real(name: str, value: Any) -> float:
    """A finite real number, returned as ``float``.

    Raises:
        TypeError: ``value`` is not a real number (``bool``, strings, lists, ``None``).
        ValueError: ``value`` is ``inf`` or ``nan``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (tolerances, ``eps``, factors).

    Raises:
        TypeError: as :func:`real`.
        ValueError: ``value`` is not finite or ``<= 0``.
    """
    value = real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def nonnegative(name: str, value: Any) -> float:
    """A finite number >= 0 (weight decay, momentum).

    Raises:
        TypeError: as :func:`real`.
        ValueError: ``value`` is not finite or ``< 0``.
    """
    value = real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def unit_interval(name: str, value: Any, *, closed_right: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``closed_right``): betas, dampening.

    Raises:
        TypeError: as :func:`real`.
        ValueError: ``value`` is outside the interval (the message shows which one).
    """
    value = real(name, value)
    ok = 0 <= value <= 1 if closed_right else 0 <= value < 1
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def integer(name: str, value: Any, *, minimum: int | None = None) -> int:
    """An int (numpy integers accepted) with an optional lower bound ``minimum``.

    Raises:
        TypeError: ``value`` is not an integer (``bool`` and ``float``, even ``3.0``, included).
        ValueError: ``value < minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def vector(name: str, value: Any, *, dim: int | None = None) -> np.ndarray:
    """A non-empty, finite, one-dimensional float array (a scalar becomes a length-1 vector).

    Raises:
        TypeError: ``value`` cannot be converted to a float array.
        ValueError: it is not one-dimensional, is empty, is not finite, or its length is not
            ``dim`` (when given).
    """
    _refuse_complex(name, value)
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real vector, got {value!r}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have length {dim}, got length {arr.shape[0]}")
    return arr


def square_matrix(name: str, value: Any, *, symmetric: bool = False) -> np.ndarray:
    """A non-empty finite square float matrix, optionally required to be symmetric.

    Raises:
        TypeError: ``value`` cannot be converted to a float array.
        ValueError: it is not a non-empty square matrix, is not finite, or (with
            ``symmetric``) is not symmetric up to rounding.
    """
    _refuse_complex(name, value)
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real matrix, got {value!r}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if symmetric and not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    return arr


def boolean(name: str, value: Any) -> bool:
    """``True`` or ``False`` exactly (flags such as ``nesterov``, ``amsgrad``, ``maximize``).

    Raises:
        TypeError: ``value`` is not a ``bool`` (``0``, ``1``, ``None`` and strings included).
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def optional_boolean(name: str, value: Any) -> bool | None:
    """``None``, ``True`` or ``False`` (a tri-state flag such as an optimizer's ``foreach``).

    Raises:
        TypeError: ``value`` is neither ``None`` nor a ``bool``.
    """
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} must be None, True or False, got {value!r}")
    return value


def learning_rate(name: str, value: Any) -> float:
    """A learning rate: finite and >= 0 (0 is allowed, as in torch: it freezes the parameters).

    A one-element tensor is accepted and converted to a Python float.

    Raises:
        TypeError: ``value`` is not a real number (nor a one-element tensor).
        ValueError: ``value`` is negative or not finite.
    """
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    return nonnegative(name, value)


def betas(name: str, value: Any) -> tuple[float, float]:
    """A pair ``(beta1, beta2)``, each in [0, 1) (Adam's moment coefficients).

    Raises:
        ValueError: ``value`` is not a pair, or an entry is outside [0, 1) (the message names
            ``betas[0]`` or ``betas[1]``).
        TypeError: an entry is not a real number.
    """
    try:
        beta1, beta2 = value
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {value!r}") from exc
    return (unit_interval(f"{name}[0]", beta1), unit_interval(f"{name}[1]", beta2))


def torch_optimizer(name: str, value: Any) -> Any:
    """A :class:`torch.optim.Optimizer` (sgdbook's or torch's).

    Raises:
        TypeError: ``value`` is not a torch optimizer.
    """
    torch = _torch()
    if torch is None or not isinstance(value, torch.optim.Optimizer):
        raise TypeError(f"{name} must be a torch.optim.Optimizer, got {type(value).__name__}")
    return value


def probability(name: str, value: Any) -> float:
    """A probability-like coefficient in [0, 1) (an alias of :func:`unit_interval`)."""
    return unit_interval(name, value)


def positive_int(name: str, value: Any) -> int:
    """An integer >= 1 (counts, batch sizes, numbers of steps that must be positive).

    Raises:
        TypeError: as :func:`integer`.
        ValueError: ``value < 1``.
    """
    return integer(name, value, minimum=1)


def seed(name: str, value: Any) -> int:
    """A seed for :func:`numpy.random.default_rng` or ``torch.Generator.manual_seed``:
    an integer in ``[0, 2**63)``.

    Raises:
        TypeError: as :func:`integer`.
        ValueError: negative, or ``>= 2**63``.
    """
    value = integer(name, value, minimum=0)
    if value >= 2**63:
        raise ValueError(f"{name} must be < 2**63, got {value}")
    return value


def choice(name: str, value: Any, options: tuple[Any, ...]) -> Any:
    """One of ``options`` exactly (strings such as ``sampling="replacement"``).

    Raises:
        ValueError: ``value`` is not one of them (the message lists them).
    """
    try:
        ok = value in options
    except TypeError:
        ok = False
    if not ok or isinstance(value, bool):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def callable_(name: str, value: Any) -> Any:
    """A callable (functions, factories, oracles).

    Raises:
        TypeError: ``value`` is not callable.
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {value!r} of type {type(value).__name__}")
    return value


def non_empty(name: str, value: Any) -> list:
    """A non-empty sequence (any iterable, returned as a list; a string is refused).

    Raises:
        TypeError: ``value`` is not iterable, or is a string.
        ValueError: it is empty.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a sequence, got the string {value!r}")
    try:
        items = list(value)
    except TypeError as exc:
        raise TypeError(
            f"{name} must be a sequence, got {value!r} of type {type(value).__name__}"
        ) from exc
    if not items:
        raise ValueError(f"{name} must not be empty, got {value!r}")
    return items


def array(
    name: str, value: Any, *, ndim: int | None = None, min_size: int = 1, finite: bool = True
) -> np.ndarray:
    """A real float array (a torch tensor is converted), of rank ``ndim`` when given.

    Raises:
        TypeError: ``value`` is complex, or cannot be converted to a float array.
        ValueError: wrong rank, fewer than ``min_size`` entries, or (with ``finite``) an entry
            is ``inf`` or ``nan``.
    """
    _refuse_complex(name, value)
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real array, got {value!r}")
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array, got {value!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr}")
    return arr


def real_array(
    name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> np.ndarray:
    """A finite real number or array (for arguments that broadcast), optionally bounded below.

    With ``minimum``, every entry must be ``>= minimum`` (``> minimum`` with ``strict``).

    Raises:
        TypeError: not real numbers.
        ValueError: empty, not finite, or below the bound.
    """
    arr = array(name, value, min_size=1)
    if minimum is not None:
        bad = arr <= minimum if strict else arr < minimum
        if np.any(bad):
            op = ">" if strict else ">="
            raise ValueError(f"{name} must be {op} {minimum:g}, got {value!r}")
    return arr


def tensor(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    floating: bool = True,
    finite: bool = True,
    min_rows: int = 1,
) -> Any:
    """A real torch tensor of rank ``ndim`` (an int or a tuple of allowed ranks).

    With ``floating`` the dtype must be a real floating-point type (``float32``/``float64``...);
    ``min_rows`` is the minimal length of the first dimension (empty data is refused).

    Raises:
        TypeError: ``value`` is not a tensor, is complex, or (with ``floating``) is not of a
            floating-point dtype.
        ValueError: wrong rank, too few rows, or (with ``finite``) an entry not finite.
    """
    torch = _torch()
    if torch is None or not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_complex():
        raise TypeError(f"{name} must be real, got a complex tensor of dtype {value.dtype}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {value.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                f"got shape {tuple(value.shape)}"
            )
    if value.dim() and value.shape[0] < min_rows:
        raise ValueError(
            f"{name} must have at least {min_rows} rows, got shape {tuple(value.shape)}"
        )
    if finite and value.numel() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite (it holds inf or nan)")
    return value


def same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ``ValueError`` unless ``len(a) == len(b)`` (rows of data and of targets)."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}"
        )


def same_shape(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape (no broadcasting)."""
    sa, sb = (
        tuple(np.shape(a)) if not hasattr(a, "shape") else tuple(a.shape),
        tuple(np.shape(b)) if not hasattr(b, "shape") else tuple(b.shape),
    )
    if sa != sb:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {sa} and {sb}")


def open_unit_interval(name: str, value: Any) -> float:
    """A number in the open interval (0, 1) (Armijo's ``c`` and shrink factor ``beta``).

    Raises:
        TypeError: as :func:`real`.
        ValueError: ``value <= 0`` or ``>= 1``.
    """
    value = real(name, value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def device(name: str, value: Any) -> Any:
    """A :class:`torch.device` from ``None`` (returned as ``None``), a string or a device.

    Integers (which torch reads as CUDA indices) are refused, and so is a CUDA device when CUDA
    is not available, with a message instead of torch's accelerator error.

    Raises:
        TypeError: ``value`` is not ``None``, a string or a :class:`torch.device`.
        ValueError: the string is not a device, or names an unavailable CUDA device.
    """
    if value is None:
        return None
    import torch

    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be None, a str or a torch.device, got {value!r}")
    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"{name} is not a device: {value!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {value!r} but CUDA is not available")
    return dev


#: How :func:`update_arguments` checks each hyper-parameter of an optimizer's update function
#: (the same rules as the optimizer classes' parameter groups).
_UPDATE_HYPER = {
    "lr": learning_rate,
    "momentum": nonnegative,
    "weight_decay": nonnegative,
    "dampening": lambda n, v: unit_interval(n, v, closed_right=True),
    "nesterov": boolean,
    "beta": unit_interval,
    "beta1": unit_interval,
    "beta2": unit_interval,
    "alpha": unit_interval,
    "eps": positive,
    "lr_decay": nonnegative,
    "initial_accumulator_value": nonnegative,
    "centered": boolean,
    "amsgrad": boolean,
    "decoupled_weight_decay": boolean,
    "momentum_decay": nonnegative,
}


def update_arguments(fn: Any) -> Any:
    """Decorate a public one-tensor update function ``fn(param, grad, state, **hyper)``.

    The decorated function checks that ``param`` is a real floating-point tensor, that ``grad``
    is a tensor of the same shape, dtype and device (a ``(1,)`` gradient is not broadcast onto a
    ``(3,)`` parameter), that ``state`` is a dict, and every hyper-parameter (as the optimizer
    classes do), then calls ``fn`` with the arguments unchanged. The optimizer classes call
    ``fn.__wrapped__`` (their parameter groups are already checked at every ``step()``), so the
    checks cost nothing in the step loop.

    Raises (from the decorated function):
        TypeError: ``param``/``grad`` not tensors, ``state`` not a dict, a flag not a bool.
        ValueError: shapes, dtypes or devices differ, or a hyper-parameter is out of range.
    """
    import functools

    @functools.wraps(fn)
    def checked(param, grad, state, **hyper):
        torch = _torch()
        if torch is None or not isinstance(param, torch.Tensor) or not param.is_floating_point():
            raise TypeError(f"param must be a real floating-point torch.Tensor, got {param!r:.80}")
        if not isinstance(grad, torch.Tensor):
            raise TypeError(f"grad must be a torch.Tensor, got {type(grad).__name__}")
        if grad.shape != param.shape or grad.dtype != param.dtype or grad.device != param.device:
            raise ValueError(
                f"grad must have param's shape, dtype and device {tuple(param.shape)}, "
                f"{param.dtype}, {param.device}; got {tuple(grad.shape)}, {grad.dtype}, {grad.device}"
            )
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, got {type(state).__name__}")
        for name, value in hyper.items():
            check = _UPDATE_HYPER.get(name)
            if check is not None:
                check(name, value)
        return fn(param, grad, state, **hyper)

    return checked


def objective(name: str, value: Any, *, methods: tuple[str, ...] = ("value", "grad")) -> Any:
    """An object with callable ``value`` and ``grad`` (an :class:`~sgdbook.problems.objectives.Objective`).

    Raises:
        TypeError: a method is missing or not callable.
    """
    for m in methods:
        if not callable(getattr(value, m, None)):
            raise TypeError(
                f"{name} must have a callable {m}() (an Objective), got {type(value).__name__}"
            )
    return value


def dtype(name: str, value: Any, *, floating: bool = True) -> Any:
    """A :class:`torch.dtype` (a real floating one with ``floating``).

    Raises:
        TypeError: ``value`` is not a torch dtype, or not a real floating one.
    """
    import torch

    if not isinstance(value, torch.dtype) or (
        floating and (not value.is_floating_point or value.is_complex)
    ):
        kind = "a real floating torch.dtype" if floating else "a torch.dtype"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    return value


def seeds(name: str, value: Any) -> list[int]:
    """A non-empty sequence of seeds (each as :func:`seed`), returned as a list of ints.

    Raises:
        TypeError: not a sequence, or an entry not an integer (the message names ``name[i]``).
        ValueError: empty, or an entry out of range.
    """
    items = non_empty(name, value)
    return [seed(f"{name}[{i}]", s) for i, s in enumerate(items)]


def instance(name: str, value: Any, cls: Any) -> Any:
    """``value`` if it is an instance of ``cls`` (a class or a tuple of classes).

    Raises:
        TypeError: it is not (the message names the expected and the received type).
    """
    if not isinstance(value, cls):
        want = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise TypeError(f"{name} must be a {want}, got {type(value).__name__}")
    return value
