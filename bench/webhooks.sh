#!/usr/bin/env bash
# The trigger workloads (W1 echo, W2 chain40 and W3 fanout10 through sync webhooks; event ingestion)
# against a real server process, on SQLite, then on a throw-away PostgreSQL 15 cluster when its
# binaries are installed (or on CADRE_BENCH_DATABASE when set). Throughput is measured with wrk
# (apt-get install wrk). REQUESTS (latency sample, default 2000) and SECONDS_OF_LOAD (default 15) tune it.
set -euo pipefail
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
source "$(dirname "$0")/on-databases.sh"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" webhooks "${REQUESTS:-2000}" "${SECONDS_OF_LOAD:-15}"; }
on_databases
