#!/usr/bin/env bash
# The benchmark report in one command: builds Release, runs every workload (webhooks with W1 echo,
# W2 chain40 and W3 fanout10; the engine's W2/W3 and per-step overhead; agent overhead; persona
# search; analytics) on SQLite, then on a throw-away PostgreSQL 15 cluster (or CADRE_BENCH_DATABASE),
# plus the backlog drain on PostgreSQL, each with its baselines measured in the same run (a bare
# Kestrel JSON endpoint, raw single-row commits, the fake provider called directly), and writes the
# figures into docs/benchmarks.md between its report markers. The defaults take about 10
# minutes on 2 cores; the knobs below make bigger runs (the individual bench/*.sh scripts' defaults
# are the full sizes). Needs wrk (apt-get install -y wrk).
set -euo pipefail
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
cd "$(dirname "$0")/.."
commit="$(git rev-parse --short HEAD)"
[ -z "$(git status --porcelain)" ] || commit="$commit (dirty)"

seconds="${SECONDS_OF_LOAD:-5}"        # each load pass (wrk and closed loops)
requests="${REQUESTS:-200}"            # latency samples per scenario, one at a time
personas="${PERSONAS:-2000}"           # personas seeded before the persona scenarios
analytics_runs="${ANALYTICS_RUNS:-20000}"  # runs seeded for analytics
analytics_requests="${ANALYTICS_REQUESTS:-30}"
agent_runs="${AGENT_RUNS:-20}"         # time-to-first-token samples
streaming="${STREAMING:-20}"           # runs streaming at once
subscribers="${SUBSCRIBERS:-200}"      # SSE subscribers over them
drain="${DRAIN:-3000}"                 # one-step runs in the backlog
nodes="${NODES:-1}"                    # worker nodes draining it (1…NODES)
sizes="load passes ${seconds} s, ${requests} latency samples per scenario, ${personas} personas, ${analytics_runs} analytics runs (${analytics_requests} requests per pass), ${agent_runs} time-to-first-token samples, ${streaming} streaming runs with ${subscribers} subscribers, a backlog of ${drain} runs drained by 1…${nodes} worker node(s)"

figures="$(mktemp /tmp/cadre-bench-figures.XXXXXX)"
export CADRE_BENCH_FIGURES="$figures"
source bench/on-databases.sh
bench() { dotnet bench/Cadre.Bench/bin/Release/net10.0/Cadre.Bench.dll "$@"; }
run() {
  echo "-- webhooks"; bench "$server" webhooks "$requests" "$seconds"
  echo "-- workflows"; bench "$server" workflows "$requests" 8 "$seconds"
  echo "-- agents"; bench "$server" agents "$agent_runs" "$streaming" "$subscribers"
  echo "-- personas"; bench "$server" "$personas" "$requests" 8
  echo "-- analytics"; bench "$server" analytics "$analytics_runs" "$analytics_requests"
  if [ -n "${CADRE_BENCH_DATABASE:-}" ]; then
    echo "-- backlog drain"; bench "$server" scaleout "$nodes" "$drain" "$seconds"
  fi
}
started=$(date +%s)
on_databases

report="$figures.md"
{
  bench render "$figures" "$commit" "$sizes"
  echo
  echo "The whole report took $(( ($(date +%s) - started) / 60 )) min."
} > "$report"

doc=docs/benchmarks.md
awk -v report="$report" '
  /<!-- report:begin -->/ { print; while ((getline line < report) > 0) print line; inside = 1; next }
  /<!-- report:end -->/ { inside = 0 }
  !inside { print }
' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
rm -f "$figures" "$report"
echo "Updated $doc"
