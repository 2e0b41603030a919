#!/usr/bin/env bash
# The model workloads (agent overhead on time to first token; many streaming runs with 1 000 SSE
# subscribers) against a real server process and a local fake OpenAI-compatible server (first token
# after 200 ms, then 50 tokens/s), on SQLite, then on a throw-away PostgreSQL 15 cluster when its
# binaries are installed (or on CADRE_BENCH_DATABASE when set). RUNS (latency sample, default 50),
# STREAMING (runs at once, default 100) and SUBSCRIBERS (default 1000) tune it.
set -euo pipefail
source "$(dirname "$0")/on-databases.sh"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" agents "${RUNS:-50}" "${STREAMING:-100}" "${SUBSCRIBERS:-1000}"; }
on_databases
