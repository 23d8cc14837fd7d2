"""Real data that is available offline, verified before use.

:func:`load_diabetes` reads the diabetes data of Efron, Hastie, Johnstone and Tibshirani (2004),
"Least angle regression", *Annals of Statistics* 32(2):407–499: 442 patients, 10 baseline
variables (age, sex, body-mass index, mean blood pressure and six blood serum measurements) and a
quantitative measure of disease progression one year later. The two files ship inside
scikit-learn (``sklearn/datasets/data/diabetes_data_raw.csv.gz`` and
``diabetes_target.csv.gz``, BSD-3-Clause licence), so nothing is downloaded. The loader checks the
shapes and the SHA-256 of the raw float64 values, so a missing, truncated or altered file stops
the book with a clear message instead of silently changing every number in chapter 4.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import validation as _validate

__all__ = [
    "DatasetError",
    "Dataset",
    "diabetes_dir",
    "load_diabetes",
    "array_sha256",
    "standardize",
]

DIABETES_FILES = ("diabetes_data_raw.csv.gz", "diabetes_target.csv.gz")
DIABETES_SHAPES = ((442, 10), (442,))
#: SHA-256 of the raw values as little-endian float64 in C order (features, then target).
DIABETES_SHA256 = (
    "6b93b2556c8942c79d8374838768047adf9d1f4044510b9f948ddace62567d75",
    "4911e8747aff95aa1cd523fea86dd91cfd1cd14c1a8ead274f1913b14fa853c4",
)
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


class DatasetError(RuntimeError):
    """A data file is missing, unreadable, or not the file the book was written with."""


@dataclass(frozen=True)
class Dataset:
    """A verified regression data set.

    Attributes:
        X: features, shape (n, d), float64, as stored (not standardised).
        y: targets, shape (n,), float64.
        feature_names: one name per column of ``X``.
        source: the directory the files were read from (as a string).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    source: str


def array_sha256(a: np.ndarray) -> str:
    """SHA-256 of an array's values as little-endian float64 in C order (shape not included).

    Raises:
        TypeError: ``a`` is not a numpy array (a list would be hashed after a silent conversion).
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"a must be a numpy array, got {type(a).__name__}")
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest()


def diabetes_dir() -> str:
    """The directory inside the installed scikit-learn that holds the diabetes files.

    scikit-learn is located without being imported (importing it takes seconds).

    Raises:
        DatasetError: scikit-learn is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise DatasetError(
            "the diabetes data ships with scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn`"
        )
    return str(Path(spec.origin).resolve().parent / "datasets" / "data")


def load_diabetes(data_dir: str | None = None) -> Dataset:
    """Load and verify the diabetes data (442 x 10 features, 442 targets).

    Args:
        data_dir: directory (a string or path-like object) holding ``diabetes_data_raw.csv.gz`` and ``diabetes_target.csv.gz``;
            ``None`` means the copy inside scikit-learn (:func:`diabetes_dir`).

    Returns:
        The raw features and targets (see :func:`standardize` for the book's preprocessing).

    Raises:
        DatasetError: a file is missing or unreadable, or its shape or checksum differs from the
            published data; the message names the file and what is wrong.
    """
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be None, a str or a path-like object, got {data_dir!r}")
    base = Path(diabetes_dir() if data_dir is None else data_dir)
    arrays = []
    for name, shape, digest in zip(DIABETES_FILES, DIABETES_SHAPES, DIABETES_SHA256):
        path = base / name
        if not path.is_file():
            raise DatasetError(
                f"diabetes data file missing: {path} (it ships with scikit-learn; "
                "reinstall scikit-learn or pass data_dir=)"
            )
        try:
            arr = np.loadtxt(path, dtype=np.float64, ndmin=len(shape))
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            # OSError includes gzip.BadGzipFile (not gzip at all); zlib.error is a damaged
            # compressed body; EOFError a cut-off one; ValueError text that is not numbers
            raise DatasetError(
                f"diabetes data file unreadable: {path}: {type(exc).__name__}: "
                f"{exc}; the file is damaged or cannot be read: reinstall scikit-learn "
                "(`pip install --force-reinstall scikit-learn`) or pass data_dir= "
                "pointing to an intact copy"
            ) from exc
        if arr.shape != shape:
            raise DatasetError(
                f"diabetes data file {path} has shape {arr.shape}, expected {shape}: "
                "the file is truncated or not the published data"
            )
        got = array_sha256(arr)
        if got != digest:
            raise DatasetError(
                f"diabetes data file {path} fails its checksum: SHA-256 of the values "
                f"is {got}, expected {digest}; the file is corrupt or was altered"
            )
        arrays.append(arr)
    return Dataset(X=arrays[0], y=arrays[1], feature_names=DIABETES_FEATURES, source=str(base))


def standardize(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre every column of ``X`` and ``y`` and scale it to unit (population) standard deviation.

    Raises:
        ValueError: shapes do not match, empty or non-finite data, or a column is constant
            (it cannot be scaled).
        TypeError: complex or non-numeric data.
    """
    X = _validate.array("X", X, ndim=2)
    y = _validate.array("y", y, ndim=1)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    sx, sy = X.std(axis=0), y.std()
    if np.any(sx == 0) or sy == 0:
        raise ValueError("a constant column cannot be standardised")
    return (X - X.mean(axis=0)) / sx, (y - y.mean()) / sy
