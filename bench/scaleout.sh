#!/usr/bin/env bash
# Scale-out on one PostgreSQL: W2 chain40 runs/s through 1…NODES identical nodes, and a backlog
# drain of DRAIN one-step runs (enqueued through an intake node with its engine off, then 1…NODES
# worker nodes started): tasks/s, queue latency, commits per task. On CADRE_BENCH_DATABASE when set
# (a PostgreSQL server; a database is created and dropped per configuration), else on a throw-away
# PostgreSQL 15 cluster. NODES (default 3), DRAIN (default 100000), SECONDS_OF_LOAD (default 15).
set -euo pipefail
source "$(dirname "$0")/on-databases.sh"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" scaleout "${NODES:-3}" "${DRAIN:-100000}" "${SECONDS_OF_LOAD:-15}"; }
on_postgres
