#!/usr/bin/env bash
# Start-up time of the server, from process start to "Cadre is listening", on an empty data
# directory (create the SQLite file, migrate, generate the admin key) against the baseline of a
# restart on an existing one, measured in the same run. Prints the medians and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"

dotnet build src/Cadre.Server -c Release -v quiet -nologo >/dev/null
server="$PWD/src/Cadre.Server/bin/Release/net10.0/Cadre.Server.dll"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Seconds from launch until the banner, then stops the server.
start_once() {
  local dir="$1" log="$1.log" begin end
  begin=$(date +%s.%N)
  CADRE_DATA_DIR="$dir" dotnet "$server" --urls http://127.0.0.1:0 >"$log" 2>&1 &
  local pid=$!
  until grep -q "Cadre is listening" "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.01
  done
  end=$(date +%s.%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$end - $begin" | bc
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

empty=(); existing=()
for i in $(seq "$runs"); do
  empty+=("$(start_once "$work/empty-$i")")
  existing+=("$(start_once "$work/empty-$i")")
done

empty_median=$(printf '%s\n' "${empty[@]}" | median)
existing_median=$(printf '%s\n' "${existing[@]}" | median)
printf 'start-up, existing data dir (baseline): %.2f s median of %d\n' "$existing_median" "$runs"
printf 'start-up, empty data dir:               %.2f s median of %d\n' "$empty_median" "$runs"
printf 'ratio empty / existing:                 %.2f\n' "$(echo "$empty_median / $existing_median" | bc -l)"
