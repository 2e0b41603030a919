#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks of Core hot paths (expressions, filters, templates), each class
# with a hand-written baseline in the same run. Extra arguments go to BenchmarkDotNet, e.g.
# bench/micro.sh --filter '*Expression*' --job short
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--filter '*')
dotnet run -c Release --project bench/Cadre.Bench.Micro -- "${args[@]}"
