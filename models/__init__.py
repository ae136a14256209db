"""Reference model of the kit: Deep-Compression-style compression (PyTorch), the CSC encoding,
the golden integer model of the EIE-style engine, memory-image exports and reports."""
