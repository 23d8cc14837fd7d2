"""Argument checks shared by all of sgdbook's public functions: the one home of every check.

Every check takes the argument's name and its value, returns the value normalised (a Python
``float``/``int``/``bool``, a float array) and raises ``TypeError`` for a value of the wrong
kind and ``ValueError`` for a value out of range, with a message that names the argument and
repeats the value received. Each function's docstring says which input raises which error.

Scalars: :func:`real`, :func:`positive`, :func:`nonnegative`, :func:`unit_interval`,
:func:`integer`, :func:`boolean`, :func:`optional_boolean`. Arrays: :func:`vector`,
:func:`square_matrix`. Optimizer hyper-parameters: :func:`learning_rate`, :func:`betas`;
objects: :func:`torch_optimizer`. Importing this module does not import torch (the checks that
involve tensors look torch up only if it is already loaded).
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np

__all__ = [
    "real", "positive", "nonnegative", "unit_interval", "integer", "boolean",
    "optional_boolean", "vector", "square_matrix", "learning_rate", "betas", "torch_optimizer",
]


def _torch():
    """The torch module if it has been imported, else ``None`` (so this module stays cheap)."""
    return sys.modules.get("torch")


def real(name: str, value: Any) -> float:
    """A finite real number, returned as ``float``.

    Raises:
        TypeError: ``value`` is not a real number (``bool``, strings, lists, ``None``).
        ValueError: ``value`` is ``inf`` or ``nan``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
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
