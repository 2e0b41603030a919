# Sourced by the workload scripts: builds the Release server and harness, then calls the script's
# `run` function on SQLite, then on CADRE_BENCH_DATABASE when set, else on a throw-away PostgreSQL 15
# cluster when its binaries are installed (max_connections 300: agent runs hold many at once).
# The web UI is left out of the build (-p:CadreBuildWeb=false): no workload uses it.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build src/Cadre.Server -c Release -p:CadreBuildWeb=false -v quiet -nologo >/dev/null
dotnet build bench/Cadre.Bench -c Release -p:CadreBuildWeb=false -v quiet -nologo >/dev/null
server="$PWD/src/Cadre.Server/bin/Release/net10.0/Cadre.Server.dll"

on_databases() {
  echo "== SQLite"
  CADRE_BENCH_DATABASE= run
  echo
  on_postgres
}

# The PostgreSQL half alone (scale-out has no SQLite side).
on_postgres() {
  if [ -n "${CADRE_BENCH_DATABASE:-}" ]; then
    echo "== PostgreSQL (CADRE_BENCH_DATABASE)"
    run
  elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    pgdir=$(mktemp -d /tmp/cadre-bench-pg.XXXXXX); chmod 777 "$pgdir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
    as_postgres "/usr/lib/postgresql/15/bin/initdb -D $pgdir/data -A trust -U postgres >/dev/null"
    as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdir/data -o '-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=300' -l $pgdir/log -w start >/dev/null"
    trap 'as_postgres "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdir/data -m immediate stop >/dev/null"; rm -rf "$pgdir"' EXIT
    echo "== PostgreSQL 15 (throw-away cluster)"
    CADRE_BENCH_DATABASE="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" run
  fi
}
