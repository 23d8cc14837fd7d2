"""Problems and data: objectives with exact gradients, two-dimensional landscapes, finite sums, the
chapters' regression and classification problems, and real data available offline.

Modules: :mod:`~sgdbook.problems.objectives`, :mod:`~sgdbook.problems.landscapes`,
:mod:`~sgdbook.problems.datasets` (shared by several chapters), :mod:`~sgdbook.problems.line_fit`
(chapter 2), :mod:`~sgdbook.problems.stochastic`, :mod:`~sgdbook.problems.basin_batches`,
:mod:`~sgdbook.problems.logistic` (chapter 3), :mod:`~sgdbook.problems.minibatch` (chapter 4),
:mod:`~sgdbook.problems.training` (chapter 5), :mod:`~sgdbook.problems.linreg` (chapter 6). Each
is imported on its own; importing this package imports none of them.
"""
