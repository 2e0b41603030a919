#!/usr/bin/env bash
# Analytics of one workflow with RUNS runs (default 1 000 000, over 400 days): the runs' rows and
# their facts are written straight into a fresh database, the server's own drain folds the facts
# (the fold rate is reported), then each analytics endpoint's p50/p95/p99 one at a time and 4 at a
# time, folded and with ~5 000 facts pending, as ratios to GET /healthz measured in the same run.
# On SQLite, then on a throw-away PostgreSQL 15 cluster when its binaries are installed (or on
# CADRE_BENCH_DATABASE when set). REQUESTS (per pass, default 200) tunes it.
set -euo pipefail
source "$(dirname "$0")/on-databases.sh"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" analytics "${RUNS:-1000000}" "${REQUESTS:-200}"; }
on_databases
