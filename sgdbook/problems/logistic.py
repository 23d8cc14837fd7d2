r"""Chapter 3 (:doc:`/sgd`): the course notebook's logistic regression, on its own terms.

* :func:`notebook_data` draws the notebook's two Gaussian classes with a seeded
  ``torch.Generator``: class 0 then class 1 (``torch.randn(n, 2, generator=g) * spread + centre``),
  ``flips`` labels flipped at ``torch.randperm(2 n, generator=g)[:flips]``, then the whole set
  shuffled by a second ``randperm`` of the same generator;
* :func:`train_notebook` is the notebook's loop: a ``DataLoader`` with ``shuffle=True`` and a
  generator seeded ``loader_seed``, ``BCEWithLogitsLoss``, ``torch.optim.SGD``; it records the
  training loss, the accuracies and the weight norm after every epoch, and the training loss
  after every update.

Everything runs on the CPU: the data are 400 points in the plane, and the notebook's numbers are
the CPU's (on CUDA the same loop gives the same numbers up to float rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validation as _validate
from ..theory.gd import DIVERGENCE_THRESHOLD, divergence_message

__all__ = ["CENTRES", "notebook_data", "NotebookRun", "train_notebook", "minimum_loss"]

#: The class centres of the notebook, class 0 around (-1, -1) and class 1 around (1, 1).
CENTRES = ((-1.0, -1.0), (1.0, 1.0))


def notebook_data(n_per_class: int, flips: int, seed: int, spread: float = 0.9):
    """The notebook's data set, drawn exactly as the notebook draws it.

    ``g = torch.Generator().manual_seed(seed)``; ``X0 = torch.randn(n, 2, generator=g) * spread
    + (-1, -1)``; ``X1 = torch.randn(n, 2, generator=g) * spread + (1, 1)``; labels 0 then 1;
    ``torch.randperm(2 n, generator=g)[:flips]`` flipped; then rows reordered by
    ``torch.randperm(2 n, generator=g)``.

    Args:
        n_per_class: points per class (>= 1).
        flips: labels to flip (0 <= flips <= 2 n).
        seed: seed of the generator.
        spread: standard deviation of each coordinate around its class centre.

    Returns:
        ``(X, y)``: float32 tensors of shapes ``(2 n, 2)`` and ``(2 n,)``.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    import torch

    n = _validate.integer("n_per_class", n_per_class, minimum=1)
    flips = _validate.integer("flips", flips, minimum=0)
    if flips > 2 * n:
        raise ValueError(f"flips must be <= 2 * n_per_class = {2 * n}, got {flips}")
    spread = _validate.positive("spread", spread)
    g = torch.Generator().manual_seed(_validate.seed("seed", seed))
    X0 = torch.randn(n, 2, generator=g) * spread + torch.tensor(CENTRES[0])
    X1 = torch.randn(n, 2, generator=g) * spread + torch.tensor(CENTRES[1])
    X = torch.cat([X0, X1])
    y = torch.cat([torch.zeros(n), torch.ones(n)])
    flip = torch.randperm(2 * n, generator=g)[:flips]
    y[flip] = 1.0 - y[flip]
    order = torch.randperm(2 * n, generator=g)
    return X[order], y[order]


@dataclass(frozen=True)
class NotebookRun:
    """One training run of :func:`train_notebook`.

    Per epoch (index 0: before training): ``loss`` (training loss on the whole training set),
    ``train_acc``, ``test_acc``, ``weight_norm`` (:math:`\\|a\\|`). Per update (index 0: before
    training): ``update_loss``, the training loss on the whole set after each update.
    ``a``, ``b`` are the final parameters; ``diverged`` is set (and ``status()`` says so) when
    a parameter left the finite range, and training stopped there.
    """

    batch_size: int
    lr: float
    loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    weight_norm: np.ndarray
    update_loss: np.ndarray
    a: np.ndarray
    b: float
    diverged: bool

    @property
    def updates(self) -> int:
        """Number of parameter updates taken."""
        return len(self.update_loss) - 1

    @property
    def updates_per_epoch(self) -> int:
        """Updates in one epoch (the last batch may be smaller than ``batch_size``)."""
        n_epochs = len(self.loss) - 1
        return self.updates // n_epochs if n_epochs else 0

    def status(self) -> str:
        """A one-line Chinese summary (the divergence message when the run blew up)."""
        if self.diverged:
            return divergence_message(
                self.updates, np.append(self.a, self.b), float(self.update_loss[-1])
            )
        return f"运行 {self.updates} 次更新，最终训练损失 {self.loss[-1]:.6g}"


def train_notebook(
    X_train,
    y_train,
    X_test,
    y_test,
    batch_size: int,
    lr: float = 0.02,
    epochs: int = 100,
    loader_seed: int = 6,
    a0=(-1.0, -1.0),
    b0: float = 0.0,
) -> NotebookRun:
    r"""The notebook's training loop: ``DataLoader`` + ``BCEWithLogitsLoss`` + ``torch.optim.SGD``.

    The model is the logit :math:`z = a^\top x + b`, started at ``a0``, ``b0``. Batches come from
    ``DataLoader(TensorDataset(X_train, y_train), batch_size, shuffle=True,
    generator=torch.Generator().manual_seed(loader_seed))`` (a fresh generator per call, as the
    notebook builds one loader per run). After every update it evaluates the training loss on the
    whole training set; after every epoch also both accuracies (prediction: :math:`z > 0`).

    Args:
        X_train, y_train: training data, shapes ``(n, 2)`` and ``(n,)`` (tensors or arrays).
        X_test, y_test: test data, never used for training.
        batch_size: examples per update, ``1 <= batch_size <= n``.
        lr: learning rate of ``torch.optim.SGD``.
        epochs: passes over the training set.
        loader_seed: seed of the loader's generator.
        a0, b0: starting weights and bias.

    Returns:
        The :class:`NotebookRun`.

    Raises:
        ValueError, TypeError: bad arguments.
    """
    import torch

    def as_data(name, value, ndim):
        arr = _validate.array(name, value, ndim=ndim)
        if ndim == 1 and not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must hold labels in {{0, 1}}")
        t = torch.as_tensor(np.asarray(value, dtype=np.float32))
        if t.ndim != ndim or t.shape[0] == 0 or (ndim == 2 and t.shape[1] != 2):
            want = "(n, 2)" if ndim == 2 else "(n,)"
            raise ValueError(f"{name} must have shape {want} with n >= 1, got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} must be finite")
        return t

    Xtr, ytr = as_data("X_train", X_train, 2), as_data("y_train", y_train, 1)
    Xte, yte = as_data("X_test", X_test, 2), as_data("y_test", y_test, 1)
    _validate.same_length("X_train", Xtr, "y_train", ytr)
    _validate.same_length("X_test", Xte, "y_test", yte)
    n = Xtr.shape[0]
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch_size}")
    lr = _validate.positive("lr", lr)
    epochs = _validate.integer("epochs", epochs, minimum=0)
    loader_seed = _validate.seed("loader_seed", loader_seed)
    a0 = _validate.vector("a0", a0, dim=2)
    b0 = _validate.real("b0", b0)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 400 points: a thread pool only adds synchronisation
    try:
        a = torch.tensor(a0, dtype=torch.float32, requires_grad=True)
        b = torch.tensor(b0, dtype=torch.float32, requires_grad=True)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        opt = torch.optim.SGD([a, b], lr=lr)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(Xtr, ytr),
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(loader_seed),
        )

        def train_loss() -> float:
            with torch.no_grad():
                return loss_fn(Xtr @ a + b, ytr).item()

        def accuracy(X, y) -> float:
            with torch.no_grad():
                return ((X @ a + b > 0).float() == y).float().mean().item()

        per_epoch = [(train_loss(), accuracy(Xtr, ytr), accuracy(Xte, yte), a.norm().item())]
        per_update = [per_epoch[0][0]]
        diverged = False
        for _ in range(epochs):
            for xb, yb in loader:
                opt.zero_grad()
                loss_fn(xb @ a + b, yb).backward()
                opt.step()
                per_update.append(train_loss())
                big = max(a.detach().abs().max().item(), abs(b.item()))
                if not (big <= DIVERGENCE_THRESHOLD) or not np.isfinite(per_update[-1]):
                    diverged = True
                    break
            if diverged:
                break
            per_epoch.append(
                (per_update[-1], accuracy(Xtr, ytr), accuracy(Xte, yte), a.norm().item())
            )
    finally:
        torch.set_num_threads(threads)
    E = np.array(per_epoch, dtype=float)
    return NotebookRun(
        batch_size,
        lr,
        E[:, 0],
        E[:, 1],
        E[:, 2],
        E[:, 3],
        np.array(per_update),
        a.detach().numpy().astype(float),
        float(b.item()),
        diverged,
    )


def minimum_loss(X, y, iterations: int = 50) -> tuple[float, np.ndarray, float]:
    r"""The minimum of the mean logistic loss over :math:`(a, b)`, by Newton's method in float64.

    Returns:
        ``(loss, a, b)`` at the minimiser (the data must not be separable, or there is none).

    Raises:
        ValueError: bad shapes, entries not finite, labels outside [0, 1], or Newton's method
            did not converge (separable data).
        TypeError: ``X`` or ``y`` not real arrays (numpy or torch).
    """
    X = _validate.array("X", X, ndim=2)
    y = _validate.array("y", y, ndim=1)
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold labels in [0, 1]")
    if X.ndim != 2 or X.shape[0] == 0 or y.shape != (X.shape[0],):
        raise ValueError(f"need X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
    iterations = _validate.integer("iterations", iterations, minimum=1)
    Z = np.hstack([X, np.ones((X.shape[0], 1))])
    w = np.zeros(Z.shape[1])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            for _ in range(iterations):
                p = 1.0 / (1.0 + np.exp(-(Z @ w)))
                g = Z.T @ (p - y) / len(y)
                H = (Z * (p * (1 - p))[:, None]).T @ Z / len(y)
                w = w - np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            w = np.full_like(w, np.nan)
        z = Z @ w
        p = 1.0 / (1.0 + np.exp(-z))
    if not np.all(np.isfinite(w)) or np.linalg.norm(Z.T @ (p - y) / len(y)) > 1e-10:
        raise ValueError("Newton's method did not converge (are the data separable?)")
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    return loss, w[:-1], float(w[-1])
