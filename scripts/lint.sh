#!/usr/bin/env bash
# verilator --lint-only -Wall over every RTL top (each rtl/*.v file is linted as its own top,
# with the other files available as libraries). Exits non-zero on any warning or error.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for f in rtl/*.v; do
    top=$(basename "$f" .v)
    if out=$(verilator --lint-only -Wall -Irtl --top-module "$top" "$f" 2>&1); then
        echo "lint ok   $top"
    else
        echo "lint FAIL $top"; echo "$out"; status=1
    fi
done
# Parameter variants whose generate branches the defaults do not reach.
for variant in "mac -GMUL=0" "mac -GMUL=2 -GACC_W=16 -GOUT_W=20" "mac -GACC_W=24 -GSHIFT_W=3" \
               "eie_top -GN_PE=1 -GMUL=0" "eie_top -GN_PE=16 -GQDEPTH=1" "eie_top -GN_PE=64" \
               "eie_top -GMUL=2" "eie_top -GN_PE=1 -GMUL=2 -GEA=5" \
               "eie_top -GN_PE=16 -GMUL=2 -GEA=3" "mul_log_log -GEXP_W=4 -GA_EXP_W=5"; do
    set -- $variant
    top=$1; shift
    if out=$(verilator --lint-only -Wall -Irtl --top-module "$top" "$@" "rtl/$top.v" 2>&1); then
        echo "lint ok   $variant"
    else
        echo "lint FAIL $variant"; echo "$out"; status=1
    fi
done
# All files at once, as a tool reading rtl/*.v sees them (several tops; names must not clash).
if out=$(verilator --lint-only -Wall -Wno-MULTITOP -Irtl rtl/*.v 2>&1); then
    echo "lint ok   rtl/*.v together"
else
    echo "lint FAIL rtl/*.v together"; echo "$out"; status=1
fi
exit $status
