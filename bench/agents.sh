#!/usr/bin/env bash
# The model workloads (agent overhead on time to first token; many streaming runs with 1 000 SSE
# subscribers) against a real server process and a local fake OpenAI-compatible server (first token
# after 200 ms, then 50 tokens/s), on SQLite, then on a throw-away PostgreSQL 15 cluster when its
# binaries are installed (or on CADRE_BENCH_DATABASE when set). RUNS (latency sample, default 50),
# STREAMING (runs at once, default 100) and SUBSCRIBERS (default 1000) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Cadre.Server -c Release -v quiet -nologo >/dev/null
dotnet build bench/Cadre.Bench -c Release -v quiet -nologo >/dev/null
server="$PWD/src/Cadre.Server/bin/Release/net10.0/Cadre.Server.dll"
run() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$server" agents "${RUNS:-50}" "${STREAMING:-100}" "${SUBSCRIBERS:-1000}"; }

echo "== SQLite"
CADRE_BENCH_DATABASE= run

if [ -n "${CADRE_BENCH_DATABASE:-}" ]; then
  echo; echo "== PostgreSQL (CADRE_BENCH_DATABASE)"
  run
elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  pgdir=$(mktemp -d /tmp/cadre-bench-pg.XXXXXX); chmod 777 "$pgdir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
  as_postgres "/usr/lib/postgresql/15/bin/initdb -D $pgdir/data -A trust -U postgres >/dev/null"
  as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdir/data -o '-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=300' -l $pgdir/log -w start >/dev/null"
  trap 'as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdir/data -m immediate stop >/dev/null"; rm -rf "$pgdir"' EXIT
  echo; echo "== PostgreSQL 15 (throw-away cluster)"
  CADRE_BENCH_DATABASE="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" run
fi
