"""Real compressed networks for the engine tests and ``make sim``: LeNet-300-100 compressed by
models.compress into an output folder (training cached in the shared model cache)."""

from __future__ import annotations

import argparse
from pathlib import Path

from models import compress


def config(dataset: str, weights: str) -> compress.Config:
    """The configuration ``python -m models.compress --dataset D --weights W`` trains."""
    return compress.config_from_args(argparse.Namespace(
        dataset=dataset, weights=weights, seed=0, hidden=None, densities=None, epochs=None))


def cached(dataset: str, weights: str) -> bool:
    """Whether that configuration is already trained (so using it costs seconds)."""
    key = compress.cache_key(config(dataset, weights))
    return (compress.default_cache_dir() / f"{key}.pt").is_file()


def mnist_available() -> bool:
    from models import data
    d = data.default_mnist_dir()
    return d.is_dir() and all(any((d / (f + s)).is_file() for s in ("", ".gz"))
                              for f in data.MNIST_FILES)


def prepare(out: Path, dataset: str = "digits", weights: str = "kmeans", pes: int = 4,
            vectors: int = 16) -> Path:
    """Compress (training cached) and export into ``out``; returns ``out``."""
    compress.run(config(dataset, weights), Path(out), pes, n_vectors=max(1, vectors))
    return Path(out)
