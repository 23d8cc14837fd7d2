"""From-scratch optimizers that match ``torch.optim``, plus a runner for small problems.

Every optimizer is a :class:`torch.optim.Optimizer` subclass (parameter groups, ``zero_grad``,
``state_dict``/``load_state_dict``, closures), with torch's argument names and defaults, and
produces the same numbers as its torch counterpart. Each one's update of a single tensor is a
small function the book explains (:func:`sgd_update`, :func:`ema_momentum_update`,
:func:`adagrad_update`, :func:`rmsprop_update`, :func:`adam_update`); a multi-tensor path with
``torch._foreach_*`` ops does the same arithmetic for speed (``foreach`` argument).

Divergence: :func:`params_finite` says whether all parameters are finite,
:func:`assert_finite` raises :class:`~sgdbook.divergence.DivergenceError` if not, and ``check_finite=True`` on any
sgdbook optimizer does that after every step. :func:`run_optimizer` stops a run at divergence
and reports it in the returned :class:`~sgdbook.theory.gd.Trajectory`.
"""

from ._base import BookOptimizer, DivergenceError, assert_finite, params_finite
from .adam import Adam, AdamW, adam_update
from .adaptive import Adagrad, RMSprop, adagrad_update, rmsprop_update
from .nadam import NAdam, nadam_update
from .radam import RAdam, radam_rectification, radam_rho, radam_update
from .runner import run_optimizer
from .sgd import SGD, EMAMomentum, ema_momentum_update, sgd_update

__all__ = [
    "SGD",
    "EMAMomentum",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "sgd_update",
    "ema_momentum_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
    "BookOptimizer",
    "DivergenceError",
    "assert_finite",
    "params_finite",
    "run_optimizer",
]
__all__ += ["NAdam", "RAdam", "nadam_update", "radam_update", "radam_rho", "radam_rectification"]
