"""pyuvm environment of the EIE engine (eie_top): items, sequences, BFMs on cocotb-bus,
scoreboard against models.golden, functional coverage (see env.py and test_eie_uvm.py); plus the
fast image runner of ``make sim`` (images.py) and the real-network exporter (realnets.py)."""
