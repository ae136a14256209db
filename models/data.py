"""Datasets: scikit-learn's digits (default) and the MNIST test-set split (IDX files)."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_ENV = "MNIST_DIR"
MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MNIST_TRAIN = 8000


@dataclass
class Dataset:
    """Float inputs in [0, 1] (flat, images in torch's (C, H, W) Flatten order) and integer
    labels, split into train and test; the image shape (C, H, W), None when not images."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int, int] | None = None

    @property
    def n_in(self) -> int:
        return int(self.x_train.shape[1])


def digits() -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images), 75 % train / 25 % test, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=0.25, random_state=0,
                                          stratify=d.target)
    return Dataset("digits", xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), (1, 8, 8))


def default_mnist_dir() -> Path:
    """``$MNIST_DIR`` or ``<repo>/../shared/data/mnist-t10k``."""
    return Path(os.environ.get(MNIST_ENV, Path(__file__).resolve().parents[2] / "shared" / "data"
                               / "mnist-t10k"))


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped when it ends in .gz) as a uint8 array; ValueError naming the file when
    the header or the length is wrong."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: cannot read: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (bad magic)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    start, size = 4 + 4 * ndim, int(np.prod(dims))
    if len(raw) != start + size:
        raise ValueError(f"{path}: {len(raw) - start} data bytes, header says {size}")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def _find(d: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(f"{d / stem}[.gz]: MNIST file not found (give --data-dir or set {MNIST_ENV})")


def mnist(data_dir: str | os.PathLike | None = None) -> Dataset:
    """The MNIST test set split: first 8,000 images for training, last 2,000 for testing."""
    d = Path(data_dir) if data_dir is not None else default_mnist_dir()
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: MNIST folder not found (give --data-dir or set {MNIST_ENV})")
    img_path, lab_path = _find(d, MNIST_FILES[0]), _find(d, MNIST_FILES[1])
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{img_path}: {images.shape} images do not match {labels.shape} labels")
    x = (images.reshape(len(images), -1) / 255.0).astype(np.float32)
    y = labels.astype(np.int64)
    return Dataset("mnist", x[:MNIST_TRAIN], y[:MNIST_TRAIN], x[MNIST_TRAIN:], y[MNIST_TRAIN:],
                   (1, 28, 28))


def load(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """``digits`` or ``mnist``."""
    if name == "digits":
        return digits()
    if name == "mnist":
        return mnist(data_dir)
    raise ValueError(f"unknown dataset {name!r} (digits or mnist)")
