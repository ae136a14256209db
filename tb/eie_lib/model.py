"""What the engine must produce for a network and an input, from models.golden: the result
stream (values in slot order), each layer's input, the counters, the outputs that saturate."""

from __future__ import annotations

import numpy as np

from models import fixedpoint as fp
from models import golden
from models.csc import PECSC


def expected_slots(layers: list[golden.QLayer], x: np.ndarray) -> np.ndarray:
    """The last layer's outputs in slot order (what the engine streams out)."""
    return golden.network_forward(layers, x)[-1]["y_slots"][0]


def layer_inputs(layers: list[golden.QLayer], x: np.ndarray) -> list[np.ndarray]:
    """Each layer's input vector, bias column included (for golden.layer_cycles)."""
    return [o["input"][0] for o in golden.network_forward(layers, x)]


def padding_entries(pe: PECSC, a: np.ndarray) -> int:
    """Padding entries (v = 0) of one PE in the columns whose input ``a`` is non-zero: what the
    PE's padding counter counts."""
    return int(np.count_nonzero(pe.v[np.repeat(np.asarray(a) != 0, pe.col_counts())] == 0))


def expected_counters(layers: list[golden.QLayer], x: np.ndarray) -> dict:
    """The run's counters (models.engine_map.COUNTERS names) that models.golden predicts,
    summed over the layers: broadcasts (active columns), busy cycles (work) and padding entries
    per PE, layers completed; plus ``bound``, the deep-queue bound of the compute cycles."""
    inputs = layer_inputs(layers, x)
    cyc = [golden.layer_cycles(lay.csc, a) for lay, a in zip(layers, inputs)]
    n = layers[0].csc.n_pes
    return {
        "bcast": sum(c["active_columns"] for c in cyc),
        "busy": [sum(c["work"][k] for c in cyc) for k in range(n)],
        "pad": [sum(padding_entries(lay.csc.pes[k], a) for lay, a in zip(layers, inputs))
                for k in range(n)],
        "layers": len(layers),
        "bound": sum(c["bound"] for c in cyc),
    }


def saturation(layers: list[golden.QLayer], x: np.ndarray) -> tuple[int, int]:
    """(outputs clipped high, clipped low) over every layer for input ``x``."""
    hi = lo = 0
    for lay, r in zip(layers, golden.network_forward(layers, x)):
        v = fp.round_shift(r["acc"][0], lay.shift)
        hi += int((v > fp.smax(16)).sum())
        lo += int((v < -fp.smax(16) - 1).sum()) if not lay.relu else 0
    return hi, lo
