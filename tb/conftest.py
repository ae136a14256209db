"""pytest glue for the cocotb tests: every test that takes ``sim`` runs once per simulator."""

from tb.sim import simulators


def pytest_generate_tests(metafunc):
    if "sim" in metafunc.fixturenames:
        metafunc.parametrize("sim", simulators())
