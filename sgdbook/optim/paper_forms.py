r"""Chapter 5 (:doc:`/momentum-adam`): update rules exactly as the original papers (and Keras) write
them.

These are independent references for chapter 5: they are *not* used for training, only to show
where PyTorch's conventions agree with the papers and where they differ. All but one are plain
NumPy loops; :class:`LrInBufferMomentum` is a small :class:`torch.optim.Optimizer`, so that a
learning-rate schedule can drive it next to ``torch.optim.SGD``.

* :func:`adam_paper`: Algorithm 1 of Kingma & Ba (2015),
  :math:`\theta_t = \theta_{t-1} - \alpha \hat m_t / (\sqrt{\hat v_t} + \epsilon)`, and, with
  ``eps_hat=True``, the "more efficient" ordering of their Section 2,
  :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
  :math:`\theta_t = \theta_{t-1} - \alpha_t m_t / (\sqrt{v_t} + \hat\epsilon)` (the form Keras and
  TensorFlow use), where :math:`\hat\epsilon` sits next to the *uncorrected* :math:`\sqrt{v_t}`.
* :func:`rmsprop_keras`: RMSprop as Keras 3 implements it, :math:`\epsilon` **inside** the square
  root, :math:`x \leftarrow x - \eta g / \sqrt{s + \epsilon}`.
* :func:`adamw_paper`: Algorithm 2 of Loshchilov & Hutter (2019) with a constant schedule
  multiplier :math:`\eta_t = 1`:
  :math:`\theta_t = \theta_{t-1} - (\alpha \hat m_t/(\sqrt{\hat v_t}+\epsilon) + \lambda\theta_{t-1})`.
* :class:`LrInBufferMomentum`: classical momentum as Sutskever et al. (2013) and Keras write it,
  :math:`v \leftarrow \mu v - \varepsilon g`, :math:`\theta \leftarrow \theta + v`, with the
  learning rate *inside* the buffer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .. import validation as _validate

__all__ = [
    "adam_paper",
    "rmsprop_keras",
    "adamw_paper",
    "rmsprop_steady_step",
    "decay_under_noise",
    "LrInBufferMomentum",
]

Grad = Callable[[np.ndarray], np.ndarray]


def _common(x0, steps):
    return _validate.vector("x0", x0), _validate.integer("steps", steps, minimum=0)


def adam_paper(
    grad: Grad,
    x0,
    steps: int,
    *,
    alpha: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    eps_hat: bool = False,
) -> np.ndarray:
    """Adam as in Kingma & Ba (2015), Algorithm 1 (or the ``eps_hat`` variant); returns all iterates.

    Returns:
        Array of shape ``(steps + 1, d)``.
    """
    grad = _validate.callable_("grad", grad)
    eps_hat = _validate.boolean("eps_hat", eps_hat)
    x, steps = _common(x0, steps)
    alpha = _validate.positive("alpha", alpha)
    beta1 = _validate.unit_interval("beta1", beta1)
    beta2 = _validate.unit_interval("beta2", beta2)
    eps = _validate.positive("eps", eps)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    out = [x.copy()]
    for t in range(1, steps + 1):
        g = grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if eps_hat:
            a_t = alpha * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            x = x - a_t * m / (np.sqrt(v) + eps)
        else:
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            x = x - alpha * m_hat / (np.sqrt(v_hat) + eps)
        out.append(x.copy())
    return np.array(out)


def adamw_paper(
    grad: Grad,
    x0,
    steps: int,
    *,
    alpha: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    lam: float = 0.0,
) -> np.ndarray:
    r"""AdamW, Algorithm 2 of Loshchilov & Hutter (2019), with :math:`\eta_t = 1`.

    The decay term is :math:`\eta_t\lambda\theta_{t-1}`, not multiplied by :math:`\alpha`; so
    torch's ``AdamW(lr=alpha, weight_decay=wd)`` is this with :math:`\lambda = \alpha\,` ``wd``.

    Returns:
        Array of shape ``(steps + 1, d)``.
    """
    grad = _validate.callable_("grad", grad)
    x, steps = _common(x0, steps)
    alpha = _validate.positive("alpha", alpha)
    beta1 = _validate.unit_interval("beta1", beta1)
    beta2 = _validate.unit_interval("beta2", beta2)
    eps = _validate.positive("eps", eps)
    lam = _validate.nonnegative("lam", lam)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    out = [x.copy()]
    for t in range(1, steps + 1):
        g = grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        x = x - (alpha * m_hat / (np.sqrt(v_hat) + eps) + lam * x)
        out.append(x.copy())
    return np.array(out)


def rmsprop_keras(
    grad: Grad, x0, steps: int, *, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-7
) -> np.ndarray:
    r"""RMSprop as in Keras 3 (defaults ``rho=0.9``, ``epsilon=1e-7``): :math:`\epsilon` inside the root.

    Returns:
        Array of shape ``(steps + 1, d)``.
    """
    grad = _validate.callable_("grad", grad)
    x, steps = _common(x0, steps)
    lr = _validate.positive("lr", lr)
    rho = _validate.unit_interval("rho", rho)
    eps = _validate.positive("eps", eps)
    s = np.zeros_like(x)
    out = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        s = rho * s + (1 - rho) * g * g
        x = x - lr * g / np.sqrt(s + eps)
        out.append(x.copy())
    return np.array(out)


def rmsprop_steady_step(g, lr: float, eps: float, *, inside: bool) -> np.ndarray:
    r"""Step length of RMSprop once the average has settled at :math:`s = g^2` (constant gradient).

    ``inside=False`` (PyTorch, Tieleman & Hinton with a guard added): :math:`\eta|g|/(|g|+\epsilon)`;
    ``inside=True`` (Keras, TensorFlow): :math:`\eta|g|/\sqrt{g^2+\epsilon}`. The first is about
    :math:`\eta` as soon as :math:`|g| \gg \epsilon`, the second only once :math:`|g| \gg \sqrt\epsilon`.
    """
    g = np.abs(_validate.real_array("g", g))
    inside = _validate.boolean("inside", inside)
    lr = _validate.positive("lr", lr)
    eps = _validate.positive("eps", eps)
    return lr * g / (np.sqrt(g * g + eps) if inside else g + eps)


def decay_under_noise(
    make_optimizer, sigmas, *, steps: int = 500, chains: int = 200, seed: int = 0, l2: float = 0.0
) -> np.ndarray:
    r"""How fast weight decay shrinks weights whose gradients are pure noise of different sizes.

    Each coordinate :math:`i` sees the gradient :math:`\lambda_{L2}\,\theta_i + \sigma_i \xi`
    (``l2`` is an explicit L2 term added to the gradient, as ``Adam(weight_decay=...)`` does;
    :math:`\xi \sim N(0, 1)`), starting from :math:`\theta_i = 1`. The parameter is one
    ``(chains, len(sigmas))`` tensor; element-wise optimizers (Adam, AdamW, RMSprop, SGD) treat
    every entry independently, so the chains are independent runs.

    Args:
        make_optimizer: builds the optimizer from a list with one tensor.
        sigmas: noise level of each coordinate (``> 0``).
        steps: number of steps.
        chains: independent runs averaged.
        seed: seed of the noise.
        l2: coefficient of the L2 term added to the gradient by hand (``>= 0``).

    Returns:
        Array of shape ``(steps + 1, len(sigmas))``: the mean of :math:`\theta_i` over chains.
    """
    make_optimizer = _validate.callable_("make_optimizer", make_optimizer)
    sig = _validate.vector("sigmas", sigmas)
    if np.any(sig <= 0):
        raise ValueError("sigmas must be > 0")
    steps = _validate.integer("steps", steps, minimum=1)
    chains = _validate.integer("chains", chains, minimum=1)
    l2 = _validate.nonnegative("l2", l2)
    gen = torch.Generator().manual_seed(_validate.seed("seed", seed))
    theta = torch.ones(chains, len(sig), dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([theta])
    s = torch.as_tensor(sig)
    out = [np.ones(len(sig))]
    for _ in range(steps):
        noise = torch.randn(chains, len(sig), generator=gen, dtype=torch.float64) * s
        theta.grad = l2 * theta.detach() + noise
        opt.step()
        out.append(theta.detach().mean(0).numpy().copy())
    return np.array(out)


class LrInBufferMomentum(torch.optim.Optimizer):
    r"""Classical momentum with the learning rate inside the buffer (Sutskever et al. 2013, Keras).

    Per tensor, with gradient :math:`g_t` and the current learning rate :math:`\varepsilon_t`
    (``group["lr"]``, so a schedule may change it between steps):

    .. math:: v_t = \mu v_{t-1} - \varepsilon_t\, g_t, \quad v_0 = 0, \qquad
              \theta_t = \theta_{t-1} + v_t .

    This is the classical momentum of Sutskever et al. (2013) and Keras' ``SGD(momentum=...)``.
    With a **constant** rate it equals ``torch.optim.SGD(lr=eps, momentum=mu)``
    (:math:`v_t = -\varepsilon u_t` for torch's buffer :math:`u_t = \mu u_{t-1} + g_t`).
    When the rate changes the two differ: here :math:`v_t = -\sum_k \mu^k \varepsilon_{t-k}
    g_{t-k}` keeps every past gradient with the rate of *its* step, while torch multiplies the
    whole buffer by the *current* rate, :math:`\varepsilon_t \sum_k \mu^k g_{t-k}`.

    With ``momentum_correction`` (Goyal et al. 2017, section 2.3), the buffer is first
    multiplied by :math:`\varepsilon_t/\varepsilon_{t-1}` whenever the rate has changed; then
    :math:`v_t = -\varepsilon_t u_t` at every step and the iterates equal torch's under any
    schedule.

    Args:
        params: tensors or parameter-group dicts.
        lr: learning rate :math:`\varepsilon > 0`.
        momentum: :math:`\mu \in [0, 1)` (default 0.9).
        momentum_correction: rescale the buffer when the rate changes (default ``False``).

    Raises:
        ValueError: ``lr <= 0``, ``momentum`` outside ``[0, 1)``, or no parameters.
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, momentum_correction: bool = False):
        lr = _validate.positive("lr", lr)
        momentum = _validate.unit_interval("momentum", momentum)
        if not isinstance(momentum_correction, bool):
            raise TypeError(
                f"momentum_correction must be True or False, got {momentum_correction!r}"
            )
        super().__init__(
            params, dict(lr=lr, momentum=momentum, momentum_correction=momentum_correction)
        )

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` when one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p)
                v = state["velocity"]
                if (
                    group.get("momentum_correction")
                    and "last_lr" in state
                    and state["last_lr"] != lr
                ):
                    v.mul_(lr / state["last_lr"])  # Goyal et al.'s momentum correction
                state["last_lr"] = lr
                v.mul_(mu).add_(p.grad, alpha=-lr)
                p.add_(v)
        return loss


def sgd_weight_decay_forms(
    grad: Grad, x0, steps: int, *, lr: float, momentum: float, wd: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""SGD with momentum and an L2 term, next to SGDW (decoupled decay), both from ``x0``.

    L2 (torch's ``SGD(weight_decay=wd)``): :math:`u \leftarrow \beta u + g + \lambda x`,
    :math:`x \leftarrow x - \eta u`. SGDW (Loshchilov & Hutter 2019, Algorithm 1, with
    :math:`\eta_t = 1`): :math:`u \leftarrow \beta u + g`,
    :math:`x \leftarrow x - \eta u - \eta\lambda x`. Without momentum both are
    :math:`x \leftarrow (1-\eta\lambda)x - \eta g`; with momentum the decay term enters the
    buffer in the first form and is remembered for about :math:`1/(1-\beta)` steps.

    Returns:
        ``(l2, sgdw)``, arrays of shape ``(steps + 1, d)``.
    """
    grad = _validate.callable_("grad", grad)
    x, steps = _common(x0, steps)
    lr = _validate.positive("lr", lr)
    momentum = _validate.unit_interval("momentum", momentum)
    wd = _validate.nonnegative("wd", wd)
    runs = []
    for decoupled in (False, True):
        xi, u = x.copy(), np.zeros_like(x)
        out = [xi.copy()]
        for _ in range(steps):
            g = np.asarray(grad(xi), dtype=float)
            if decoupled:
                u = momentum * u + g
                xi = xi - lr * u - lr * wd * xi
            else:
                u = momentum * u + g + wd * xi
                xi = xi - lr * u
            out.append(xi.copy())
        runs.append(np.array(out))
    return runs[0], runs[1]


__all__ += ["sgd_weight_decay_forms"]
