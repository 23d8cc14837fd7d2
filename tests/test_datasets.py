"""Tests of sgdbook.problems.datasets: the shipped data loads, and damage is detected with a clear message."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from sgdbook.problems import datasets


def test_diabetes_loads_and_verifies():
    d = datasets.load_diabetes()
    assert d.X.shape == (442, 10) and d.y.shape == (442,)
    assert d.feature_names[2] == "bmi"
    assert d.y[:3].tolist() == [151.0, 75.0, 141.0]  # as documented by scikit-learn


def _copy(tmp_path):
    for name in datasets.DIABETES_FILES:
        shutil.copy(Path(datasets.diabetes_dir()) / name, tmp_path / name)
    return tmp_path


def test_copy_loads(tmp_path):
    d = datasets.load_diabetes(_copy(tmp_path))
    np.testing.assert_array_equal(d.X, datasets.load_diabetes().X)


def test_missing_file(tmp_path):
    _copy(tmp_path)
    (tmp_path / "diabetes_target.csv.gz").unlink()
    with pytest.raises(datasets.DatasetError, match=r"missing: .*diabetes_target\.csv\.gz"):
        datasets.load_diabetes(tmp_path)


def test_corrupted_value_fails_checksum(tmp_path):
    _copy(tmp_path)
    path = tmp_path / "diabetes_data_raw.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    lines[100] = lines[100].replace(" ", " 1", 1)  # one value altered, shape unchanged
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(datasets.DatasetError, match="fails its checksum"):
        datasets.load_diabetes(tmp_path)


def test_truncated_file_fails_shape(tmp_path):
    _copy(tmp_path)
    path = tmp_path / "diabetes_data_raw.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    path.write_bytes(gzip.compress(("\n".join(lines[:-1]) + "\n").encode()))
    with pytest.raises(datasets.DatasetError, match=r"shape \(441, 10\), expected \(442, 10\)"):
        datasets.load_diabetes(tmp_path)


def test_garbage_file_is_unreadable(tmp_path):
    _copy(tmp_path)
    (tmp_path / "diabetes_target.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(datasets.DatasetError, match="unreadable"):
        datasets.load_diabetes(tmp_path)


def test_damaged_gzip_body_is_a_dataset_error(tmp_path):
    # a valid gzip header followed by a damaged deflate stream: zlib raises zlib.error, which the
    # loader must turn into its own DatasetError naming the file
    _copy(tmp_path)
    path = tmp_path / "diabetes_data_raw.csv.gz"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        datasets.DatasetError, match=r"unreadable: .*diabetes_data_raw\.csv\.gz: error: .*reinstall"
    ):
        datasets.load_diabetes(tmp_path)


def test_cut_off_gzip_is_a_dataset_error(tmp_path):
    _copy(tmp_path)
    path = tmp_path / "diabetes_target.csv.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the compressed stream ends early
    with pytest.raises(datasets.DatasetError, match=r"unreadable: .*diabetes_target\.csv\.gz"):
        datasets.load_diabetes(tmp_path)


def test_standardize():
    d = datasets.load_diabetes()
    X, y = datasets.standardize(d.X, d.y)
    np.testing.assert_allclose(X.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(0), 1, atol=1e-12)
    assert abs(y.mean()) < 1e-12 and y.std() == pytest.approx(1)
    with pytest.raises(ValueError, match="constant"):
        datasets.standardize(np.ones((3, 2)), np.arange(3.0))
