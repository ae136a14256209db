"""The multiplier demo (``make sim`` until the engine exists): a linear classifier with
power-of-two weights on real 8x8 digit images (scikit-learn's digits), every multiply done by the
shift-multiplier MAC in RTL and every cycle checked against the golden model (tb.mac.test_mac's
MacTb). Writes build/sim/mac_demo.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from models import fixedpoint as fp
from tb.mac.test_mac import MacTb

ACT_FRAC, OUT_FRAC = 12, 8  # activations in [0, 1] with 12 fractional bits; scores with 8


def log_classifier(exp_w: int):
    """Train on the first 1,297 digits; quantize weights and biases to +-2**e with one frac."""
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    clf = LogisticRegression(max_iter=2000).fit(x[:1297], y[:1297])
    w = np.hstack([clf.coef_, clf.intercept_[:, None]])  # bias as a column with input 1.0
    frac = (1 << exp_w) - 1 - int(np.round(np.log2(np.abs(w).max())))
    return clf, w, frac, x[1297:], y[1297:]


@cocotb.test()
async def digits_classifier(dut):
    tb = MacTb(dut)
    await tb.reset()
    n_images = int(os.environ.get("IMAGES", 100))
    clf, w, w_frac, x_test, y_test = log_classifier(tb.e_w)
    sign, zero, exp = fp.log_quantize(w, w_frac, tb.e_w)
    w_codes = fp.pack_log(sign, zero, exp, tb.e_w)
    shift = ACT_FRAC + w_frac - OUT_FRAC
    x_test, y_test = x_test[:n_images], y_test[:n_images]
    acts = np.hstack([fp.quantize(x_test, ACT_FRAC, tb.p["ACT_W"]),
                      np.full((len(x_test), 1), 1 << ACT_FRAC)])
    rtl_scores = np.zeros((len(x_test), w.shape[0]), dtype=np.int64)
    for i, a_row in enumerate(acts.tolist()):
        for c, w_row in enumerate(w_codes.tolist()):
            for j, (a, wc) in enumerate(zip(a_row, w_row)):
                await tb.cycle(clr=int(j == 0), en=1, a=a, w=wc, shift=shift)
            await tb.cycle()  # the last product lands; y is checked against the golden model
            rtl_scores[i, c] = tb.dut.y.value.to_signed()
    golden = fp.requantize(acts @ fp.log_value(sign, zero, exp).T, shift, tb.p["OUT_W"])
    summary = {
        "images": len(x_test),
        "accuracy_float": float((clf.predict(x_test) == y_test).mean()),
        "accuracy_golden": float((golden.argmax(1) == y_test).mean()),
        "accuracy_rtl": float((rtl_scores.argmax(1) == y_test).mean()),
        "rtl_golden_mismatches": int((rtl_scores != golden).sum()),
        "mac_cycles": tb.cycles,
        "weight_format": f"sign + zero + {tb.e_w}-bit exponent, {w_frac} fractional bits",
    }
    out = Path(os.environ["DEMO_OUT"])
    out.write_text(json.dumps(summary, indent=2))
    assert summary["rtl_golden_mismatches"] == 0, summary
