"""Theory: gradient descent on objectives with exact gradients, and the bounds, thresholds and
rates the chapters prove, each computed next to the iterates that check it.

Modules: :mod:`~sgdbook.theory.gd` (the method itself, with divergence reported),
:mod:`~sgdbook.theory.bounds` and :mod:`~sgdbook.theory.lower_bounds` (chapter 1),
:mod:`~sgdbook.theory.preconditioning` (chapter 1), :mod:`~sgdbook.theory.stepsize`,
:mod:`~sgdbook.theory.line_search` and :mod:`~sgdbook.theory.sharpness` (chapter 2),
:mod:`~sgdbook.theory.sgd_theory` (chapter 3), :mod:`~sgdbook.theory.heavy_ball` (chapter 5),
:mod:`~sgdbook.theory.noise_floor` (chapter 6). Each is imported on its own; importing this
package imports none of them.
"""
