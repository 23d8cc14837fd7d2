"""sgdbook: the code of the book 《梯度下降：从理论到可执行代码》.

Every figure and every number in the book is computed by this package while the book builds.
Submodules are imported explicitly by the chapters (``from sgdbook import gd``); importing the
package itself is cheap and does not import torch.

The modules fall into three groups (:data:`MODULE_GROUPS` is the same map, read by the API page):

**Toolkit**, the mechanisms every chapter shares (one home each; never write a second one):

* :mod:`sgdbook.device`: where tensors live (CPU or CUDA; ``SGDBOOK_DEVICE``);
* :mod:`sgdbook.seeding`: every random number comes from a generator seeded here;
* :mod:`sgdbook.plotting`: the figure style (fonts, real minus sign, colours);
* :mod:`sgdbook.notebook`: numbers pasted into the prose (``glue``), shown plainly where
  myst-nb is not installed (a downloaded chapter notebook);
* :mod:`sgdbook.timing`: warm-up, repeats, median and GPU synchronisation for every timing;
* :mod:`sgdbook.datasets`: real data available offline, verified before use;
* :mod:`sgdbook.validation`: the argument checks every public function uses;
* :mod:`sgdbook.divergence`: when a run has blown up and how that is reported.

**Algorithms**, the methods the book teaches, each checked against torch or a closed form:

* :mod:`sgdbook.optim`: SGD, momentum, AdaGrad, RMSprop, Adam, AdamW as ``torch.optim``
  optimizers, divergence reporting (``DivergenceError``) and a runner for small problems;
* :mod:`sgdbook.schedules`: learning-rate schedules (epoch-driven and metric-driven, warm-up);
* :mod:`sgdbook.gd`: gradient descent on an objective, with divergence reported;
* :mod:`sgdbook.ema`: exponential moving averages;
* :mod:`sgdbook.objectives`: objective functions with exact gradients;
* :mod:`sgdbook.landscapes`: two-dimensional loss landscapes and contour plots;
* :mod:`sgdbook.agreement`: two optimizers side by side, step by step.

**Chapter experiments**, each used by one chapter (its docstring's first line names it):

* chapter 1, :doc:`/gradient-descent`: :mod:`sgdbook.bounds`, :mod:`sgdbook.lower_bounds`,
  :mod:`sgdbook.preconditioning`;
* chapter 2, :doc:`/learning-rate`: :mod:`sgdbook.stepsize`;
* chapter 3, :doc:`/sgd`: :mod:`sgdbook.stochastic`;
* chapter 4, :doc:`/minibatch`: :mod:`sgdbook.minibatch`, :mod:`sgdbook.batching`,
  :mod:`sgdbook.matmul`, :mod:`sgdbook.parallel`;
* chapter 5, :doc:`/momentum-adam`: :mod:`sgdbook.heavy_ball`, :mod:`sgdbook.paper_forms`,
  :mod:`sgdbook.training`;
* chapter 6, :doc:`/lr-decay`: :mod:`sgdbook.linreg`, :mod:`sgdbook.noise_floor`.

Modules whose name starts with ``_`` are internal. A new module goes into exactly one group of
:data:`MODULE_GROUPS` (``tests/test_package_map.py`` checks it); a new chapter experiment also
names its chapter in the first line of its docstring.
"""

__version__ = "0.1.0"

#: The package map: ``(group title, module names relative to sgdbook)`` pairs, in the order the
#: API page shows them. Every public module (a ``.py`` file or package directly under
#: ``sgdbook/`` whose name does not start with ``_``) is in exactly one group; the submodules of
#: a package (``optim.adam``) go with their package.
MODULE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "工具",
        (
            "device",
            "seeding",
            "plotting",
            "notebook",
            "timing",
            "datasets",
            "validation",
            "divergence",
        ),
    ),
    ("算法", ("optim", "schedules", "gd", "ema", "objectives", "landscapes", "agreement")),
    (
        "各章的实验",
        (
            "bounds",
            "lower_bounds",
            "preconditioning",  # 第 1 章
            "stepsize",
            "line_fit",
            "line_search",
            "sharpness",  # 第 2 章
            "stochastic",
            "sgd_theory",
            "basin_batches",
            "logistic",  # 第 3 章
            "minibatch",
            "batching",
            "matmul",
            "parallel",
            "roofline",
            "data_parallel",  # 第 4 章
            "heavy_ball",
            "paper_forms",
            "training",  # 第 5 章
            "linreg",
            "noise_floor",
            "averaging",  # 第 6 章
        ),
    ),
)

__all__ = ["__version__", "MODULE_GROUPS"]
