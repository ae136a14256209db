"""Storage accounting, as Deep Compression does: v and z streams (padding included), column
pointers, codebooks and biases (here the bias column), before and after Huffman coding."""

from __future__ import annotations

import numpy as np

from models import huffman
from models.csc import CSCLayer, encode

FLOAT_BITS = 32
CODEBOOK_BITS = 16 * 16  # 16 entries of 16 bits


def pointer_bits(layer: CSCLayer) -> int:
    """Pointers of every PE, each as wide as the largest pointer of its PE needs."""
    return sum((pe.ptr.size * max(1, int(pe.ptr[-1]).bit_length())) for pe in layer.pes)


def layer_sizes(codes: np.ndarray, n_pes: int = 1) -> dict:
    """Sizes in bits of one layer's ``[W | b]`` code matrix (0 = zero) stored on ``n_pes`` PEs."""
    n_rows, n_cols = codes.shape
    csc = encode(codes, n_pes)
    v = np.concatenate([pe.v for pe in csc.pes]).astype(np.int64)
    z = np.concatenate([pe.z for pe in csc.pes]).astype(np.int64)
    ptr = pointer_bits(csc)
    entries, nonzero = len(v), csc.n_nonzero
    hv, hz = huffman.stream_bits(v), huffman.stream_bits(z)
    w_nz = int(np.count_nonzero(codes[:, :-1]))
    return {
        "shape": [n_rows, n_cols - 1], "params": n_rows * n_cols, "weights": n_rows * (n_cols - 1),
        "nonzero": nonzero, "density": w_nz / max(1, n_rows * (n_cols - 1)),
        "entries": entries, "padding": entries - nonzero, "pointer_bits": ptr,
        "dense_bits": FLOAT_BITS * n_rows * n_cols,
        "pruned_bits": entries * (FLOAT_BITS + 4) + ptr,
        "shared_bits": entries * 8 + ptr + CODEBOOK_BITS,
        "huffman_bits": hv + hz + ptr + CODEBOOK_BITS,
        "huffman_v_bits": hv, "huffman_z_bits": hz,
        "v_bits_per_entry": hv / max(1, entries), "z_bits_per_entry": hz / max(1, entries),
    }


def network_sizes(codes: list[np.ndarray], n_pes: int = 1) -> dict:
    """Per-layer sizes and totals with compression ratios after each stage."""
    layers = [layer_sizes(c, n_pes) for c in codes]
    total = {k: sum(l[k] for l in layers) for k in
             ("params", "weights", "nonzero", "entries", "padding", "pointer_bits", "dense_bits",
              "pruned_bits", "shared_bits", "huffman_bits")}
    total["density"] = sum(l["density"] * l["weights"] for l in layers) / total["weights"]
    for stage in ("pruned", "shared", "huffman"):
        total[f"{stage}_ratio"] = total["dense_bits"] / total[f"{stage}_bits"]
    for l in layers:
        l["ratio"] = l["dense_bits"] / l["huffman_bits"]
    return {"n_pes": n_pes, "layers": layers, "total": total}
