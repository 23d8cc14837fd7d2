"""The one place that decides where the book's tensors live.

Chapters call :func:`get_device` and print :func:`describe_device`; no chapter tests
``torch.cuda.is_available()`` itself. The environment variable ``SGDBOOK_DEVICE`` (``cpu`` or
``cuda``) overrides the choice; ``SGDBOOK_REQUIRE_CUDA=1`` (set by the GPU CI job) turns a
missing GPU into an error instead of a silent fall-back to the CPU.
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache

import torch

from . import validation as _validate

__all__ = ["get_device", "describe_device", "cpu_model", "synchronize"]

_ALLOWED = ("cpu", "cuda")


def get_device() -> torch.device:
    """Return ``cuda`` when a GPU is usable, else ``cpu`` (see the module docstring for overrides).

    Raises:
        ValueError: ``SGDBOOK_DEVICE`` holds something other than ``cpu`` or ``cuda``.
        RuntimeError: CUDA was asked for (by ``SGDBOOK_DEVICE=cuda`` or
            ``SGDBOOK_REQUIRE_CUDA=1``) but is not available.
    """
    wanted = os.environ.get("SGDBOOK_DEVICE", "").strip().lower()
    if wanted and wanted not in _ALLOWED:
        raise ValueError(f"SGDBOOK_DEVICE must be one of {_ALLOWED}, got {wanted!r}")
    required = os.environ.get("SGDBOOK_REQUIRE_CUDA", "") == "1"
    if (wanted == "cuda" or required) and not torch.cuda.is_available():
        raise RuntimeError(
            "CUDA was required (SGDBOOK_DEVICE=cuda or SGDBOOK_REQUIRE_CUDA=1) but "
            f"torch {torch.__version__} sees no usable GPU"
        )
    if wanted == "cpu":
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), or platform's best guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_device(device: torch.device | None = None) -> str:
    """One line naming the device, e.g. ``cpu (AMD EPYC 7B13, 2 cores), torch 2.13.0``."""
    device = _validate.device("device", device)
    device = get_device() if device is None else device
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        what = f"cuda ({name}, CUDA {torch.version.cuda})"
    else:
        what = f"cpu ({cpu_model()}, {os.cpu_count()} cores)"
    return f"{what}, torch {torch.__version__}"


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work (a no-op on the CPU); call before reading a timer.

    Raises:
        TypeError, ValueError: ``device`` is not a device (``None`` included).
    """
    if not isinstance(device, torch.device):
        if device is None:
            raise TypeError("device must be a str or a torch.device, got None")
        device = _validate.device("device", device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
