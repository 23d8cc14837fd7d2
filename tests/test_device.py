"""Tests of sgdbook.device: the one helper that picks the device."""

from __future__ import annotations

import pytest


def test_device_helper(monkeypatch):
    import torch

    from sgdbook import device

    monkeypatch.setenv("SGDBOOK_DEVICE", "cpu")
    assert device.get_device() == torch.device("cpu")
    assert "torch " + torch.__version__ in device.describe_device()
    monkeypatch.setenv("SGDBOOK_DEVICE", "tpu")
    with pytest.raises(ValueError, match="SGDBOOK_DEVICE"):
        device.get_device()
    monkeypatch.delenv("SGDBOOK_DEVICE")
    if not torch.cuda.is_available():
        monkeypatch.setenv("SGDBOOK_REQUIRE_CUDA", "1")
        with pytest.raises(RuntimeError, match="CUDA was required"):
            device.get_device()
