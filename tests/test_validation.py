"""Tests of sgdbook.validation: the shared argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook import validation as _validate


class TestValidation:
    @pytest.mark.parametrize("bad", [0, -0.1, float("inf"), float("nan")])
    def test_positive_rejects(self, bad):
        with pytest.raises(ValueError, match="lr"):
            _validate.positive("lr", bad)

    @pytest.mark.parametrize("bad", ["0.1", None, True, [0.1]])
    def test_positive_rejects_non_numbers(self, bad):
        with pytest.raises(TypeError, match="lr must be a real number"):
            _validate.positive("lr", bad)

    def test_unit_interval(self):
        assert _validate.unit_interval("beta", 0.0) == 0.0
        with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got 1.0"):
            _validate.unit_interval("beta", 1.0)

    def test_integer(self):
        assert _validate.integer("steps", np.int64(3), minimum=0) == 3
        with pytest.raises(TypeError):
            _validate.integer("steps", 3.0)
        with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
            _validate.integer("steps", -1, minimum=0)

    def test_vector(self):
        np.testing.assert_array_equal(_validate.vector("x0", 2), [2.0])
        with pytest.raises(ValueError, match="empty"):
            _validate.vector("x0", [])
        with pytest.raises(ValueError, match="length 2"):
            _validate.vector("x0", [1, 2, 3], dim=2)
        with pytest.raises(ValueError, match="finite"):
            _validate.vector("x0", [1, np.nan])


def test_flags_and_optimizer_hyperparameters():
    import torch

    assert _validate.boolean("nesterov", True) is True
    with pytest.raises(TypeError, match="nesterov must be True or False, got 1"):
        _validate.boolean("nesterov", 1)
    assert _validate.optional_boolean("foreach", None) is None
    with pytest.raises(TypeError, match="foreach must be None, True or False"):
        _validate.optional_boolean("foreach", "yes")
    assert _validate.learning_rate("lr", torch.tensor([0.5])) == 0.5
    assert _validate.learning_rate("lr", 0) == 0.0  # 0 freezes the parameters, as in torch
    with pytest.raises(ValueError, match="lr must be >= 0"):
        _validate.learning_rate("lr", -1e-3)
    assert _validate.betas("betas", (0.9, 0.999)) == (0.9, 0.999)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0, 1\)"):
        _validate.betas("betas", (0.9, 1.0))
    with pytest.raises(ValueError, match="betas must be a pair"):
        _validate.betas("betas", 0.9)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    assert _validate.torch_optimizer("optimizer", opt) is opt
    with pytest.raises(TypeError, match=r"optimizer must be a torch\.optim\.Optimizer, got list"):
        _validate.torch_optimizer("optimizer", [])


def test_importing_validation_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, sgdbook.validation; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
