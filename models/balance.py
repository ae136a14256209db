"""Balanced row assignment and the engine's finite-queue cycle model.

The engine's cycle count of a layer is set by its busiest PE: ``work[k] = sum over broadcast
(non-zero) columns c of max(1, entries of c in PE k)`` (models.golden.layer_cycles). Interleaved
rows (row r to PE r mod N, as in the EIE paper) leave that to chance: on AlexNet FC8 the busiest
PE has 9.8 % more work than the mean. :func:`balanced_assignment` computes a permutation of the
rows over the PEs that minimises the busiest PE's work, for one input, for several inputs (their
summed work), or for no input at all (every column active: the input-independent balance of the
non-zeros). The assignment goes through models.csc.encode(codes, N, pe_of_row, local_of_row);
the engine streams results in slot order and models.golden.from_slots maps them back to rows.

:func:`queue_cycles` is the cycle model of the engine with activation queues of finite depth
(the deep-queue bound of models.golden is its limit for deep queues); it follows the RTL's
pipeline per PE (rtl/eie_pe.v): the activation queue (QDEPTH entries, registered full flag),
the pointer read unit's output register, and the sparse-matrix read unit walking one column
(max(1, entries) cycles). The CCU broadcasts one column a cycle unless a queue is full.
"""

from __future__ import annotations

import numpy as np

from models import csc as mcsc


# ---------------------------------------------------------------------------------------------
# Work of a layer for an input
# ---------------------------------------------------------------------------------------------
def active_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the broadcast columns of input ``x`` (n_cols, bias column included)."""
    return np.nonzero(np.asarray(x).reshape(-1) != 0)[0]


def work_matrix(layer: mcsc.CSCLayer, x: np.ndarray) -> np.ndarray:
    """(n_pes, active columns) cycles each PE spends on each broadcast column, in broadcast
    order: ``max(1, entries)`` (padding counts)."""
    return np.maximum(layer.col_counts()[:, active_columns(x)], 1)


def queue_cycles(work: np.ndarray, depth: int, ptr_reg: bool = True) -> int:
    """Cycles from the first broadcast to the last entry issued by the slowest PE, for queues of
    ``depth`` entries.

    Per PE k and column c (in broadcast order): broadcast in cycle ``b[c]`` (one a cycle, and
    only when no queue is full, i.e. column c - depth has left every queue); popped from the
    queue in cycle ``q = max(b + 1, t_prev)`` into the pointer register (``ptr_reg``; without it
    the queue feeds the walker directly); taken by the sparse-matrix walker in cycle
    ``t = max(q + 1, t_prev + w_prev)`` and walked in cycles ``t + 1 .. t + w``.
    The RTL adds a constant (pipeline fill, arithmetic drain, CCU start/done) on top."""
    w = np.asarray(work, dtype=np.int64)
    k, n = w.shape
    if n == 0:
        return 0
    depth = int(depth)
    if depth < 1:
        raise ValueError(f"queue depth must be >= 1, got {depth}")
    q_hist = np.zeros((k, n), dtype=np.int64)
    b_prev = -1
    t_prev = np.full(k, -(1 << 40), dtype=np.int64)
    w_prev = np.zeros(k, dtype=np.int64)
    for c in range(n):
        b = b_prev + 1
        if c >= depth:
            b = max(b, int(q_hist[:, c - depth].max()) + 1)
        if ptr_reg:
            q = np.maximum(b + 1, t_prev)
            t = np.maximum(q + 1, t_prev + w_prev)
        else:
            t = np.maximum(b + 1, t_prev + w_prev)
            q = t
        q_hist[:, c] = q
        b_prev, t_prev, w_prev = b, t, w[:, c]
    return int((t_prev + w_prev).max())


# ---------------------------------------------------------------------------------------------
# Balanced assignment
# ---------------------------------------------------------------------------------------------
def _incidence(codes: np.ndarray, xs: np.ndarray | None) -> np.ndarray:
    """(n_rows, columns) bool: row r has a non-zero weight in a broadcast column; the columns
    of several inputs are concatenated; without inputs every column counts."""
    nz = np.asarray(codes) != 0
    if xs is None:
        return nz
    xs = np.atleast_2d(np.asarray(xs))
    if xs.shape[1] != nz.shape[1]:
        raise ValueError(f"inputs have {xs.shape[1]} columns, the layer {nz.shape[1]}")
    return np.concatenate([nz[:, x != 0] for x in xs], axis=1)


def _work(cnt: np.ndarray) -> np.ndarray:
    return np.maximum(cnt, 1).sum(axis=-1)


SAMPLE = 32   # candidate rows per PE and step when PEs hold more rows (few PEs)


def _some(rows: np.ndarray, g: np.random.Generator) -> np.ndarray:
    return rows if len(rows) <= SAMPLE else g.choice(rows, SAMPLE, replace=False)


def _checkpoints(col_input: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Checkpoints of the cumulative work: (end column, first column of its input) every
    ``step`` broadcast columns of each input and at each input's last column."""
    ends, starts = [], []
    for i in np.unique(col_input):
        idx = np.nonzero(col_input == i)[0]
        e = list(range(step - 1, len(idx), step))
        if not e or e[-1] != len(idx) - 1:
            e.append(len(idx) - 1)
        ends += [int(idx[j]) for j in e]
        starts += [int(idx[0])] * len(e)
    return np.array(ends), np.array(starts)


def _prefix(w: np.ndarray, ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative work (last axis = columns) of each input up to each checkpoint."""
    cs = np.cumsum(w, axis=-1, dtype=np.int64)
    base = np.where(starts > 0, cs[..., np.maximum(starts - 1, 0)], 0)
    return cs[..., ends] - base


def balanced_assignment(codes: np.ndarray, n_pes: int, xs: np.ndarray | None = None,
                        max_rows: int | None = None, max_iter: int = 20000,
                        prefix_step: int = 32, refine_iter: int = 6000, seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """A row permutation over ``n_pes`` PEs that minimises the busiest PE's work and keeps the
    PEs in step during the layer, so that finite activation queues rarely stall.

    ``codes``: (n_rows, n_cols) codebook indices (0 = zero weight, bias column included).
    ``xs``: one input (n_cols,) or several (n_inputs, n_cols), bias column included; their work
    is summed. None: every column counts (input-independent balance of the non-zeros).
    ``max_rows``: rows per PE at most (default ceil(n_rows / n_pes), which keeps the number of
    activation slots of the interleaved assignment).

    1. Totals: greedy longest-processing-time placement, then moves and swaps out of the
       busiest PE while they lower it (exact work, max(1, entries) per column).
    2. Prefixes (``refine_iter`` random pair swaps, ``seed``): with deep queues only the totals
       matter, but a queue of depth D lets a PE run at most about D columns ahead of the
       slowest; a PE that is ahead starves. So the spread (max - min over PEs) of the
       cumulative work, taken every ``prefix_step`` broadcast columns, is minimised (sum over
       the checkpoints; the last checkpoint is the total), swapping rows between a PE at the
       extreme of a random checkpoint and a random PE.
    Returns (pe_of_row, local_of_row), local rows in increasing global row order.
    """
    codes = np.asarray(codes)
    n_rows = codes.shape[0]
    n_pes = int(n_pes)
    cap = -(-n_rows // n_pes) if max_rows is None else int(max_rows)
    if cap * n_pes < n_rows:
        raise ValueError(f"{n_rows} rows do not fit {n_pes} PEs of {cap} rows")
    inc = _incidence(codes, xs).astype(np.int32)            # (rows, C)
    if xs is None:
        col_input = np.zeros(inc.shape[1], dtype=np.int64)
    else:
        xs2 = np.atleast_2d(np.asarray(xs))
        col_input = np.concatenate([np.full(int(np.count_nonzero(x)), i)
                                    for i, x in enumerate(xs2)])
    weight = inc.sum(axis=1)
    pe = np.full(n_rows, -1, dtype=np.int64)
    load = np.zeros(n_pes, dtype=np.int64)
    n_in = np.zeros(n_pes, dtype=np.int64)
    for r in np.argsort(-weight, kind="stable"):
        free = np.nonzero(n_in < cap)[0]
        k = free[np.argmin(load[free])]
        pe[r] = k
        load[k] += weight[r]
        n_in[k] += 1
    cnt = np.zeros((n_pes, inc.shape[1]), dtype=np.int32)
    np.add.at(cnt, pe, inc)
    work = _work(cnt)
    g = np.random.default_rng(seed)
    for _ in range(max_iter):
        top = int(np.argmax(work))
        cur = int(work[top])
        mine = _some(np.nonzero(pe == top)[0], g)
        a_top = inc[mine]                                    # (m, C)
        best = None
        # moves: a row of the busiest PE to a PE with room
        for j in np.nonzero((n_in < cap) & (np.arange(n_pes) != top))[0]:
            new_top = _work(cnt[top][None, :] - a_top)
            new_j = _work(cnt[j][None, :] + a_top)
            worst = np.maximum(new_top, new_j)
            i = int(np.argmin(worst))
            if worst[i] < cur and (best is None or worst[i] < best[0]):
                best = (int(worst[i]), "move", mine[i], None, j)
        # swaps: a row of the busiest PE with a row of another PE
        others = np.nonzero(work < cur)[0]
        for j in others[np.argsort(work[others])]:
            theirs = _some(np.nonzero(pe == j)[0], g)
            a_j = inc[theirs]                                # (n, C)
            d = a_j[None, :, :] - a_top[:, None, :]          # (m, n, C): top gains a_j, loses a_top
            new_top = _work(cnt[top][None, None, :] + d)
            new_j = _work(cnt[j][None, None, :] - d)
            worst = np.maximum(new_top, new_j)
            i, s = np.unravel_index(int(np.argmin(worst)), worst.shape)
            if worst[i, s] < cur and (best is None or worst[i, s] < best[0]):
                best = (int(worst[i, s]), "swap", mine[i], theirs[s], j)
                break  # first improvement, least loaded partner first
        if best is None:
            break
        _, kind, r, s, j = best
        cnt[top] -= inc[r]
        cnt[j] += inc[r]
        pe[r] = j
        if kind == "swap":
            cnt[j] -= inc[s]
            cnt[top] += inc[s]
            pe[s] = top
        else:
            n_in[top] -= 1
            n_in[j] += 1
        work[top] = _work(cnt[top])
        work[j] = _work(cnt[j])

    # ---- 2. prefixes -----------------------------------------------------------------------
    if refine_iter > 0 and n_pes > 1:
        ends, starts = _checkpoints(col_input, max(1, int(prefix_step)))
        pref = _prefix(np.maximum(cnt, 1), ends, starts)     # (K, checkpoints)
        cost = int((pref.max(0) - pref.min(0)).sum())
        for _ in range(refine_iter):
            s = int(g.integers(pref.shape[1]))
            a = int(np.argmax(pref[:, s]) if g.random() < 0.5 else np.argmin(pref[:, s]))
            b = int(g.integers(n_pes))
            if a == b:
                continue
            ra = _some(np.nonzero(pe == a)[0], g)
            rb = _some(np.nonzero(pe == b)[0], g)
            d = inc[rb][None, :, :] - inc[ra][:, None, :]    # a gains rb, loses ra
            pa = _prefix(np.maximum(cnt[a][None, None, :] + d, 1), ends, starts)
            pb = _prefix(np.maximum(cnt[b][None, None, :] - d, 1), ends, starts)
            rest = np.delete(pref, [a, b], axis=0)
            hi = np.maximum(np.maximum(rest.max(0, initial=-(1 << 62)), pa), pb)
            lo = np.minimum(np.minimum(rest.min(0, initial=1 << 62), pa), pb)
            new = (hi - lo).sum(-1)
            i, j = np.unravel_index(int(np.argmin(new)), new.shape)
            if new[i, j] < cost:
                r, q = ra[i], rb[j]
                cnt[a] += inc[q] - inc[r]
                cnt[b] += inc[r] - inc[q]
                pe[r], pe[q] = b, a
                pref[a], pref[b] = pa[i, j], pb[i, j]
                cost = int(new[i, j])
    return mcsc.assignment(n_rows, n_pes, pe)


def encode_balanced(codes: np.ndarray, n_pes: int, xs: np.ndarray | None = None,
                    max_rows: int | None = None, **kw) -> mcsc.CSCLayer:
    """models.csc.encode with :func:`balanced_assignment` (keyword options passed on)."""
    pe, local = balanced_assignment(codes, n_pes, xs, max_rows, **kw)
    return mcsc.encode(codes, n_pes, pe, local)
