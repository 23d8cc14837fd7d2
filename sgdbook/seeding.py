"""Seeds: every random number in the book comes from a generator seeded here."""

from __future__ import annotations

import random

import numpy as np

from . import validation as _validate

__all__ = ["seed_everything", "rng"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global state and torch (CPU and CUDA).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``, the generator the
    chapters should draw from.
    """
    seed = _validate.seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def rng(seed: int) -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` with the seed validated."""
    return np.random.default_rng(_validate.seed("seed", seed))
