"""Fast path of ``make sim`` (scripts/sim_engine.py): every test image of an exported network
through eie_top in ONE simulation.

The memories come in through the backdoor (``+EIE_INIT_DIR=<model dir>``, read by every PE at
time 0), the layer descriptors through the load port; then, per image: start, the quantized input
on s_axis_act, the results from m_axis_res (always ready), the counters while idle. Environment:
``EIE_IMAGES_IN`` (an .npz with ``words``, images x n_in input stream words, and ``desc``, the
descriptor words of each layer) and ``EIE_IMAGES_OUT`` (the .npz written here: ``words``, the
16-bit result words, ``slots`` and every counter per image, ``cnt_<name>`` with the names of
models.engine_map.COUNTERS). Words, not values: the activation format (linear or packed log) is
the caller's (models.engine_map.stream_words / stream_values).
Not a pytest module: scripts/sim_engine.py and tb/eie_uvm/test_eie_uvm.py run it.
"""

from __future__ import annotations

import os
import time

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from models import engine_map as em
from tb.common import params
from tb.eie_lib import axis, control


@cocotb.test()
async def run_images(dut):
    """All images back to back; fails on an error flag or a missing/misplaced result beat."""
    p = params({"N_PE": 4})
    n_pe = int(p["N_PE"])
    src = np.load(os.environ["EIE_IMAGES_IN"])
    inputs = src["words"].astype(np.int64)
    desc = [tuple(int(w) for w in words) for words in src["desc"]]
    await control.start_engine(dut)
    await control.load_words(dut, em.desc_writes(desc))   # descriptors through the load port

    ys, slots, counters = [], [], []
    t0 = time.time()
    for img, x in enumerate(inputs):
        await control.start_pulse(dut)
        sender = cocotb.start_soon(axis.send_acts(dut, x))
        vals, sl, _ = await axis.collect_results(dut)
        sent = await sender
        assert not int(dut.error.value), f"image {img}: error cause {int(dut.err_cause.value)}"
        assert sent == len(x), f"image {img}: {sent} of {len(x)} inputs taken"
        ys.append([v & 0xFFFF for v in vals])
        slots.append(sl)
        counters.append(await control.read_counters(dut, n_pe))
        await FallingEdge(dut.clk)
        if img % 25 == 24:
            dut._log.info("%d images, %.1f s", img + 1, time.time() - t0)
    n = max(len(v) for v in ys)
    assert all(len(v) == n for v in ys), "result counts differ between images"
    np.savez(os.environ["EIE_IMAGES_OUT"], words=np.array(ys, dtype=np.int64),
             slots=np.array(slots, dtype=np.int64), seconds=time.time() - t0,
             **{f"cnt_{name}": np.array([c[name] for c in counters], dtype=np.int64)
                for name in em.COUNTERS})
