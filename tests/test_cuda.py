"""Paths that only run on CUDA: the optimizers' multi-tensor default and the nccl plan.

On a machine without CUDA these tests are skipped, except when ``SGDBOOK_REQUIRE_CUDA=1`` (the
GPU job of .github/workflows/book.yml): there a missing GPU fails them, so the GPU job proves
that it ran them on a GPU instead of skipping them silently.
"""

from __future__ import annotations

import os

import pytest
import torch

import sgdbook.optim as optim
from sgdbook.device import get_device
from sgdbook.systems import parallel

REQUIRED = os.environ.get("SGDBOOK_REQUIRE_CUDA") == "1"


@pytest.fixture
def cuda():
    if not torch.cuda.is_available():
        if REQUIRED:
            pytest.fail("SGDBOOK_REQUIRE_CUDA=1 but torch sees no CUDA device")
        pytest.skip("no CUDA device")
    return torch.device("cuda")


def test_require_cuda_means_the_book_uses_cuda():
    if not REQUIRED:
        pytest.skip("SGDBOOK_REQUIRE_CUDA is not set")
    assert get_device().type == "cuda"


def _params(device, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(5 + i, 3, generator=g).to(device).requires_grad_() for i in range(n)]


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (optim.SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        (optim.Adam, torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}),
        (optim.AdamW, torch.optim.AdamW, {"lr": 0.01}),
    ],
)
def test_foreach_is_the_default_on_cuda_and_matches_torch(cuda, ours, theirs, kwargs):
    mine, ref = _params(cuda), _params(cuda)
    opt = ours(mine, **kwargs)
    assert opt._use_foreach(opt.param_groups[0], mine), "foreach=None picks the multi-tensor path"
    ref_opt = theirs(ref, **kwargs)  # torch's default on CUDA is foreach too
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=g).to(cuda) for p in mine]
        for p, q, grad in zip(mine, ref, grads):
            p.grad, q.grad = grad.clone(), grad.clone()
        opt.step()
        ref_opt.step()
    for p, q in zip(mine, ref):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_nccl_plan_with_one_gpu_per_worker(cuda):
    gpus = torch.cuda.device_count()
    plan = parallel.plan_workers(preferred=4, minimum=2)
    if gpus >= 2:
        assert plan.backend == "nccl" and plan.world_size == min(gpus, 4)
    else:  # NCCL cannot put two ranks on one GPU: the documented fall-back is gloo on the CPU
        assert plan.backend == "gloo" and plan.gpus == gpus
    assert parallel.choose_backend(1) == "nccl"
