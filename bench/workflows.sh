#!/usr/bin/env bash
# The engine's workloads (W2 chain40, W3 fanout10, overhead per side-effecting step) against a real
# server process, first on SQLite, then on a throw-away PostgreSQL 15 cluster when its binaries are
# installed (or on CADRE_BENCH_DATABASE when set). RUNS (latency sample, default 100), CONCURRENCY
# (default 8) and SECONDS (load duration, default 15) tune it.
set -euo pipefail
source "$(dirname "$0")/on-databases.sh"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" workflows "${RUNS:-100}" "${CONCURRENCY:-8}" "${SECONDS_OF_LOAD:-15}"; }
on_databases
