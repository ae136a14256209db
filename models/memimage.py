"""Per-PE ``$readmemh`` memory images and the manifest (docs/FORMATS.md): writer, validating
loader and the padding to a build's memory depths. File I/O only: every word and where it sits
comes from models/engine_map.py.

Files in the output folder, for N PEs and all layers of a network:
``spm_pe{k}.hex`` (64-bit words, 16 hex digits), ``ptr_even_pe{k}.hex`` / ``ptr_odd_pe{k}.hex``
(PTR_W-bit words, ceil(PTR_W/4) hex digits), ``codebook.hex`` (16-bit words, 16 per layer) and
``manifest.json``. Every file is written atomically; the manifest is written last.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from models import atomic
from models import engine_map as em
from models.csc import CSCLayer, PECSC, assignment, entry_positions, spm_entries
from models.engine_map import PTR_W
from models.golden import (ACC_W, ACT_EXP_W, ACT_EXP_WIDTHS, ACT_MODES, ACT_W, EXP_W, QLayer,
                           check_acc_bound, weights)

FORMAT = "eie-kit-manifest"
VERSION = 2   # 2: act_mode and act_exp_w per layer
SPM_DIGITS = 16
CB_DIGITS = 4
MANIFEST = "manifest.json"


class FormatError(ValueError):
    """A malformed file: the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# ---------------------------------------------------------------------------------------------
# Hex files
# ---------------------------------------------------------------------------------------------
def hex_text(words: np.ndarray, digits: int) -> str:
    """One ``digits``-digit lower-case hex word a line."""
    return "".join(f"{int(w):0{digits}x}\n" for w in np.asarray(words).reshape(-1))


def read_hex(path: str | Path, digits: int, n_words: int | None = None) -> np.ndarray:
    """Words of a ``$readmemh`` file with exactly ``digits`` hex digits a line (blank lines
    ignored); FormatError on a bad line or when the count differs from ``n_words``."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "missing memory image")
    pattern = re.compile(rf"[0-9a-fA-F]{{{digits}}}")
    words = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if not pattern.fullmatch(s):
            raise FormatError(path, f"line {i}: {s!r} is not a {digits}-digit hex word")
        words.append(int(s, 16))
    if n_words is not None and len(words) != n_words:
        raise FormatError(path, f"wrong length: {len(words)} words, expected {n_words}")
    return np.array(words, dtype=np.uint64)


# ---------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------
def manifest_layer(lay: QLayer, spm_base: int, ptr_base: int) -> dict[str, Any]:
    """The manifest descriptor of one layer."""
    c = lay.csc
    return {
        "name": lay.name, "n_in": lay.n_in, "n_out": c.n_rows, "has_bias": lay.has_bias,
        "bias_act": lay.bias_act, "n_cols": c.n_cols, "n_slots_in": lay.n_slots_in,
        "n_slots_out": c.n_slots, "rows_per_pe": c.rows_per_pe, "ptr_base": ptr_base,
        "spm_base": spm_base, "shift": lay.shift, "relu": lay.relu, "weight_mode": lay.mode,
        "act_mode": lay.act_mode, "act_exp_w": lay.act_exp_w if lay.act_mode == "log" else None,
        "frac_in": lay.frac_in, "frac_w": lay.frac_w, "frac_out": lay.frac_out,
        "codebook_size": em.codebook_size(lay),
        "entries_per_pe": [pe.n_entries for pe in c.pes],
        "pe_of_row": c.pe_of_row.tolist(), "local_of_row": c.local_of_row.tolist(),
    }


def file_names(n_pes: int) -> dict[str, Any]:
    """The memory image names of a network on ``n_pes`` PEs."""
    return {"spm": [f"spm_pe{k}.hex" for k in range(n_pes)],
            "ptr_even": [f"ptr_even_pe{k}.hex" for k in range(n_pes)],
            "ptr_odd": [f"ptr_odd_pe{k}.hex" for k in range(n_pes)],
            "codebook": "codebook.hex"}


def write_images(out_dir: str | Path, layers: list[QLayer], ptr_w: int = PTR_W,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the memory images (models.engine_map.build_image) and ``manifest.json`` of
    ``layers`` into ``out_dir``; returns the manifest. ValueError (before anything is written)
    when a layer breaks the accumulator bound (with the largest activation of its mode), a
    pointer does not fit in ``ptr_w`` bits, or the layers disagree on the number of PEs."""
    out = Path(out_dir)
    for lay in layers:
        try:
            check_acc_bound(weights(lay.csc, lay.codebook), act_max=lay.act_max)
        except ValueError as e:
            raise ValueError(f"layer {lay.name}: {e}") from None
    img = em.build_image(layers, ptr_w)
    lo = em.layout(layers)
    n_pes = len(img.spm)
    names = file_names(n_pes)
    ptr_digits = -(-ptr_w // 4)
    for k in range(n_pes):
        atomic.write_text(out / names["spm"][k], hex_text(img.spm[k], SPM_DIGITS))
        atomic.write_text(out / names["ptr_even"][k], hex_text(img.ptr[k][0::2], ptr_digits))
        atomic.write_text(out / names["ptr_odd"][k], hex_text(img.ptr[k][1::2], ptr_digits))
    atomic.write_text(out / names["codebook"], hex_text(img.codebook, CB_DIGITS))
    manifest = {
        "format": FORMAT, "version": VERSION, "n_pes": n_pes, "act_w": ACT_W, "acc_w": ACC_W,
        "ptr_w": ptr_w, "exp_w": EXP_W, "n_layers": len(layers), "files": names,
        "words": {"spm": lo.spm_words, "ptr_bank": lo.ptr_words // 2,
                  "codebook": em.CB_WORDS * len(layers)},
        "layers": [manifest_layer(lay, lo.spm_base[i], lo.ptr_base[i])
                   for i, lay in enumerate(layers)],
        **(extra or {}),
    }
    atomic.write_json(out / MANIFEST, manifest)
    return manifest


def pad_images(src: str | Path, hw: dict[str, int], dst: str | Path) -> Path:
    """Copy the memory images of ``src`` (validated) to ``dst``, each padded with zero words to
    the memory depth of an eie_top build with parameters ``hw`` (models.engine_map.build_depths),
    so that ``$readmemh`` fills every word and the simulators print no "not enough words"
    warnings. ValueError when an image is larger than its memory. Returns ``dst``."""
    src, dst = Path(src), Path(dst)
    m = read_manifest(src)
    depth = em.build_depths(hw)
    digits = {"spm": SPM_DIGITS, "ptr_bank": -(-m["ptr_w"] // 4), "codebook": CB_DIGITS}
    f = m["files"]
    kinds = [(n, "spm") for n in f["spm"]] + [(n, "ptr_bank") for n in f["ptr_even"] + f["ptr_odd"]]
    for name, kind in kinds + [(f["codebook"], "codebook")]:
        words = read_hex(src / name, digits[kind], m["words"][kind])
        padded = em.pad_words(words, depth[kind], str(src / name))
        atomic.write_text(dst / name, hex_text(padded, digits[kind]))
    return dst


# ---------------------------------------------------------------------------------------------
# Loader
# ---------------------------------------------------------------------------------------------
_TOP = {"format": str, "version": int, "n_pes": int, "ptr_w": int, "files": dict, "words": dict,
        "layers": list}
_LAYER = {"n_in": int, "n_out": int, "has_bias": bool, "bias_act": int, "n_cols": int,
          "n_slots_in": int, "n_slots_out": int, "rows_per_pe": list, "ptr_base": int,
          "spm_base": int, "shift": int, "relu": bool, "weight_mode": str, "act_mode": str,
          "frac_in": int, "frac_w": int, "codebook_size": int, "pe_of_row": list,
          "local_of_row": list}


def _require(path: Path, obj: Any, schema: dict[str, type], where: str) -> None:
    if not isinstance(obj, dict):
        raise FormatError(path, f"{where or 'top level'}: expected an object")
    for key, typ in schema.items():
        if key not in obj:
            raise FormatError(path, f"{where}{key}: missing")
        val = obj[key]
        ok = isinstance(val, typ) and (typ is bool or not isinstance(val, bool))
        if not ok:
            raise FormatError(path, f"{where}{key}: expected {typ.__name__}, got {val!r:.40}")


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The manifest of ``out_dir``, checked for format, keys, types and consistency."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise FormatError(path, "missing manifest")
    try:
        m = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise FormatError(path, f"not valid JSON: {e}") from None
    _require(path, m, _TOP, "")
    if m["format"] != FORMAT or m["version"] != VERSION:
        raise FormatError(path, f"format {m['format']!r} version {m['version']}, expected "
                                f"{FORMAT!r} version {VERSION}")
    n = m["n_pes"]
    if not 1 <= n <= 64:
        raise FormatError(path, f"n_pes: {n} not in 1..64")
    if not m["layers"]:
        raise FormatError(path, "layers: empty")
    for key in ("spm", "ptr_even", "ptr_odd"):
        files = m["files"].get(key)
        if not (isinstance(files, list) and len(files) == n and all(isinstance(f, str) for f in files)):
            raise FormatError(path, f"files.{key}: expected {n} file names")
    _require(path, m["files"], {"codebook": str}, "files.")
    _require(path, m["words"], {"spm": int, "ptr_bank": int, "codebook": int}, "words.")
    for i, lay in enumerate(m["layers"]):
        where = f"layers[{i}]."
        _require(path, lay, _LAYER, where)
        if lay["weight_mode"] not in ("linear", "log"):
            raise FormatError(path, f"{where}weight_mode: {lay['weight_mode']!r}")
        if lay["act_mode"] not in ACT_MODES:
            raise FormatError(path, f"{where}act_mode: {lay['act_mode']!r}")
        ea = lay.get("act_exp_w", "missing")
        if lay["act_mode"] == "log":
            ok = isinstance(ea, int) and not isinstance(ea, bool) and ea in ACT_EXP_WIDTHS
        else:
            ok = ea is None
        if not ok:
            raise FormatError(path, f"{where}act_exp_w: {ea!r}, expected EA in 3..5 for log "
                                    f"activations, null for linear ones")
        if lay["n_cols"] != lay["n_slots_in"] + int(lay["has_bias"]):
            raise FormatError(path, f"{where}n_cols: {lay['n_cols']} != n_slots_in + has_bias")
        if len(lay["rows_per_pe"]) != n or len(lay["pe_of_row"]) != lay["n_out"] \
                or len(lay["local_of_row"]) != lay["n_out"]:
            raise FormatError(path, f"{where}rows_per_pe / pe_of_row / local_of_row: wrong length")
        if lay["ptr_base"] % 2 or lay["ptr_base"] < 0 or lay["spm_base"] < 0:
            raise FormatError(path, f"{where}ptr_base must be even and bases >= 0")
        if not 1 <= lay["codebook_size"] <= 16 or lay["shift"] < 0:
            raise FormatError(path, f"{where}codebook_size must be in 1..16 and shift >= 0")
    return m


def _load_pe(d: Path, m: dict, lay: dict, k: int, spm: np.ndarray, ptr: np.ndarray,
             rows: np.ndarray) -> PECSC:
    """One PE's CSC of one layer from its memory words, validated."""
    f_ptr = d / m["files"]["ptr_even"][k]
    p_abs = ptr[lay["ptr_base"]: lay["ptr_base"] + lay["n_cols"] + 1].astype(np.int64)
    if len(p_abs) != lay["n_cols"] + 1:
        raise FormatError(f_ptr, f"pointers of layer {lay.get('name', '')} run past the memory")
    drop = np.nonzero(np.diff(p_abs) < 0)[0]
    if len(drop):
        c = int(drop[0])
        raise FormatError(f_ptr, f"pointer array decreases at column {c} of layer "
                                 f"{lay.get('name', '')}: {p_abs[c]} > {p_abs[c + 1]}")
    start = em.SPM_ENTRIES_PER_WORD * lay["spm_base"]
    if p_abs[0] != start:
        raise FormatError(f_ptr, f"first pointer {p_abs[0]} != 8 * spm_base = {start}")
    f_spm = d / m["files"]["spm"][k]
    n_entries = int(p_abs[-1] - start)
    if p_abs[-1] > em.SPM_ENTRIES_PER_WORD * len(spm):
        raise FormatError(f_spm, f"pointer {p_abs[-1]} past the {len(spm)}-word memory")
    v, z = spm_entries(spm[lay["spm_base"]:], n_entries)
    if len(v) and v.max() >= lay["codebook_size"]:
        raise FormatError(f_spm, f"code {v.max()} beyond the codebook of {lay['codebook_size']} entries")
    pe = PECSC(v=v, z=z, ptr=p_abs - start, rows=rows)
    try:
        entry_positions(pe, lay["n_cols"])
    except ValueError as e:
        raise FormatError(f_spm, str(e)) from None
    return pe


def read_images(out_dir: str | Path) -> tuple[dict[str, Any], list[QLayer]]:
    """Load and validate the manifest and every memory image; returns (manifest, layers)."""
    d = Path(out_dir)
    m = read_manifest(d)
    mpath = d / MANIFEST
    n, words = m["n_pes"], m["words"]
    ptr_digits = -(-m["ptr_w"] // 4)
    spm = [read_hex(d / f, SPM_DIGITS, words["spm"]) for f in m["files"]["spm"]]
    ptr = []
    for fe, fo in zip(m["files"]["ptr_even"], m["files"]["ptr_odd"]):
        pe_ptr = np.zeros(2 * words["ptr_bank"], dtype=np.uint64)
        pe_ptr[0::2] = read_hex(d / fe, ptr_digits, words["ptr_bank"])
        pe_ptr[1::2] = read_hex(d / fo, ptr_digits, words["ptr_bank"])
        ptr.append(pe_ptr)
    cb_path = d / m["files"]["codebook"]
    cb_words = read_hex(cb_path, CB_DIGITS, words["codebook"])
    if words["codebook"] != em.CB_WORDS * len(m["layers"]):
        raise FormatError(mpath, f"words.codebook: {words['codebook']} != {em.CB_WORDS} * layers")
    layers = []
    for i, lay in enumerate(m["layers"]):
        try:
            cb = em.codebook_values(cb_words[em.CB_WORDS * i: em.CB_WORDS * (i + 1)],
                                    lay["weight_mode"])
            pe_of_row, local = assignment(lay["n_out"], n, np.array(lay["pe_of_row"]),
                                          np.array(lay["local_of_row"]))
        except ValueError as e:
            raise FormatError(cb_path if "codebook" in str(e) else mpath, f"layer {i}: {e}") from None
        if cb[0] != 0:
            raise FormatError(cb_path, f"layer {i}: codebook entry 0 is {cb[0]}, must be 0")
        pes = []
        for k in range(n):
            rows = np.nonzero(pe_of_row == k)[0]
            rows = rows[np.argsort(local[rows])]
            pes.append(_load_pe(d, m, lay, k, spm[k], ptr[k], rows))
        csc = CSCLayer(lay["n_out"], lay["n_cols"], n, pe_of_row, local, pes)
        if csc.rows_per_pe != lay["rows_per_pe"]:
            raise FormatError(mpath, f"layers[{i}].rows_per_pe disagrees with pe_of_row")
        layers.append(QLayer(csc=csc, codebook=cb, shift=lay["shift"], relu=lay["relu"],
                             has_bias=lay["has_bias"], bias_act=lay["bias_act"], n_in=lay["n_in"],
                             n_slots_in=lay["n_slots_in"], mode=lay["weight_mode"],
                             frac_in=lay["frac_in"], frac_w=lay["frac_w"], name=lay.get("name", ""),
                             act_mode=lay["act_mode"], act_exp_w=lay["act_exp_w"] or ACT_EXP_W))
    return m, layers
