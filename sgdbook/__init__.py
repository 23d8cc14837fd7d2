"""sgdbook: the code of the book 《梯度下降：从理论到可执行代码》.

Every figure and every number in the book is computed by this package while the book builds.
Submodules are imported explicitly by the chapters (``from sgdbook import gd``); importing the
package itself is cheap and does not import torch.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
