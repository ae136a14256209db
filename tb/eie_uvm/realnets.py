"""Real compressed networks for the engine tests and ``make sim``: LeNet-300-100 compressed by
models.compress into an output folder (training cached in the shared model cache)."""

from __future__ import annotations

import argparse
from pathlib import Path

from models import compress
from models.golden import ACT_EXP_W


def config(dataset: str, weights: str, acts: str = "linear",
           act_bits: int = ACT_EXP_W) -> compress.Config:
    """The configuration ``python -m models.compress --dataset D --weights W --acts A
    --act-bits EA`` trains."""
    return compress.config_from_args(argparse.Namespace(
        dataset=dataset, net="lenet300", weights=weights, seed=0, hidden=None, densities=None,
        epochs=None, acts=acts, act_bits=act_bits))


def cached(dataset: str, weights: str, acts: str = "linear", act_bits: int = ACT_EXP_W) -> bool:
    """Whether that configuration is already trained (so using it costs seconds)."""
    key = compress.cache_key(config(dataset, weights, acts, act_bits))
    return (compress.default_cache_dir() / f"{key}.pt").is_file()


def mnist_available() -> bool:
    from models import data
    d = data.default_mnist_dir()
    return d.is_dir() and all(any((d / (f + s)).is_file() for s in ("", ".gz"))
                              for f in data.MNIST_FILES)


def prepare(out: Path, dataset: str = "digits", weights: str = "kmeans", pes: int = 4,
            vectors: int = 16, acts: str = "linear", act_bits: int = ACT_EXP_W) -> Path:
    """Compress (training cached) and export into ``out``; returns ``out``."""
    compress.run(config(dataset, weights, acts, act_bits), Path(out), pes,
                 n_vectors=max(1, vectors))
    return Path(out)
