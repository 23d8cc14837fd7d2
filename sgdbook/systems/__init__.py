"""Systems: what a mini-batch step costs on real hardware, and how it is spread over processes.

Modules (chapter 4): :mod:`~sgdbook.systems.batching` (mini-batch loading),
:mod:`~sgdbook.systems.matmul` and :mod:`~sgdbook.systems.roofline` (matrix-multiply throughput
and the roofline model), :mod:`~sgdbook.systems.parallel` and
:mod:`~sgdbook.systems.data_parallel` (data-parallel SGD with ``torch.distributed``). Each is
imported on its own; importing this package imports none of them.
"""
