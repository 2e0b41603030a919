#!/usr/bin/env bash
# Persona API under load: seeds PERSONAS personas (default 10 000) into a fresh server, then reports
# list/filter/search/get/create throughput and p50/p99 latency, each as a ratio to GET /healthz
# measured in the same run. SQLite by default; CADRE_BENCH_DATABASE=<PostgreSQL connection string>
# runs the same against PostgreSQL. CADRE_BENCH_KEEP_DATA=1 keeps the data directory for a look inside.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Cadre.Server -c Release -p:CadreBuildWeb=false -v quiet -nologo >/dev/null
dotnet run -c Release -p:CadreBuildWeb=false --project bench/Cadre.Bench -- \
  "$PWD/src/Cadre.Server/bin/Release/net10.0/Cadre.Server.dll" "${PERSONAS:-10000}" "${REQUESTS:-2000}" "${CONCURRENCY:-8}"
