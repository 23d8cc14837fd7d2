"""sgdbook: the code of the book 《梯度下降：从理论到可执行代码》.

Every figure and every number in the book is computed by this package while the book builds.
The chapters import each module explicitly (``from sgdbook.theory import gd``); importing the
package or one of its sub-packages is cheap and does not import torch (only :mod:`sgdbook.optim`
does, for its ``torch.optim`` optimizers).

The layout is the map (:data:`MODULE_GROUPS` lists the same modules, in the order the API page
shows them):

**The toolkit** (``sgdbook.<module>``), the mechanisms every chapter shares, one home each:
:mod:`~sgdbook.device` (where tensors live, CPU or CUDA), :mod:`~sgdbook.seeding` (every random
number), :mod:`~sgdbook.plotting` (the figure style), :mod:`~sgdbook.notebook` (numbers pasted
into the prose, ``glue``), :mod:`~sgdbook.timing` (warm-up, repeats, median, synchronisation),
:mod:`~sgdbook.validation` (the argument checks) and :mod:`~sgdbook.divergence` (when a run has
blown up and how that is reported).

**Optimizers with their schedules** (:mod:`sgdbook.optim`, as ``torch.optim`` holds
``lr_scheduler`` and ``swa_utils``): SGD, momentum, AdaGrad, RMSprop, Adam, AdamW, NAdam, RAdam
as ``torch.optim`` optimizers and their runner (re-exported by the package), learning-rate
schedules (``optim.schedules``), averaged weights (``optim.averaging``), moving averages
(``optim.ema``), the update rules as the papers write them (``optim.paper_forms``) and two
optimizers side by side (``optim.agreement``).

**Theory** (:mod:`sgdbook.theory`): gradient descent on an objective with exact gradients and the
bounds, thresholds and rates the chapters prove, each next to the iterates that check it.

**Problems and data** (:mod:`sgdbook.problems`): objectives, landscapes, finite sums, the
chapters' regression and classification problems, and real data available offline.

**Systems** (:mod:`sgdbook.systems`): mini-batch loading, matrix-multiply throughput and the
roofline, data-parallel training with processes.

A module written for one chapter says so in the first line of its docstring
(``Chapter N (:doc:`/name`): ...``). Modules whose name starts with ``_`` are internal. A new
module goes into its sub-package and into :data:`MODULE_GROUPS` (``tests/test_package_map.py``
checks both).
"""

__version__ = "0.1.0"

#: The package map: ``(group title, module names relative to sgdbook)`` pairs, in the order the
#: API page shows them. Every public module is in exactly one group: each module of the toolkit
#: and of the sub-packages (no name component starting with ``_``), except the submodules that
#: their package imports and re-exports (``optim.sgd``, ``optim.adam``, ...: they go with it).
MODULE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "工具",
        ("device", "seeding", "plotting", "notebook", "timing", "validation", "divergence"),
    ),
    (
        "优化器与学习率调度",
        (
            "optim",
            "optim.schedules",
            "optim.averaging",
            "optim.ema",
            "optim.paper_forms",
            "optim.agreement",
        ),
    ),
    (
        "理论",
        (
            "theory.gd",
            "theory.bounds",
            "theory.lower_bounds",
            "theory.preconditioning",  # 第 1 章
            "theory.stepsize",
            "theory.line_search",
            "theory.sharpness",  # 第 2 章
            "theory.sgd_theory",  # 第 3 章
            "theory.heavy_ball",  # 第 5 章
            "theory.noise_floor",  # 第 6 章
        ),
    ),
    (
        "问题与数据",
        (
            "problems.objectives",
            "problems.landscapes",
            "problems.datasets",
            "problems.line_fit",  # 第 2 章
            "problems.stochastic",
            "problems.basin_batches",
            "problems.logistic",  # 第 3 章
            "problems.minibatch",  # 第 4 章
            "problems.training",  # 第 5 章
            "problems.linreg",  # 第 6 章
        ),
    ),
    (
        "系统",
        (
            "systems.batching",
            "systems.matmul",
            "systems.roofline",
            "systems.parallel",
            "systems.data_parallel",  # 第 4 章
        ),
    ),
)

__all__ = ["__version__", "MODULE_GROUPS"]
