"""Tests of sgdbook.seeding."""

from __future__ import annotations

import numpy as np
import pytest

from sgdbook import seeding


def test_seeding_is_reproducible():
    import torch

    a = seeding.seed_everything(3).normal(size=3), torch.rand(2)
    b = seeding.seed_everything(3).normal(size=3), torch.rand(2)
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        seeding.seed_everything(-1)
