#!/usr/bin/env bash
# The reliability and security battery (docs/reliability.md) at full size. With item numbers
# (bench/battery.sh 1 7) only those run. Each item prints its figures; afterwards they replace that
# item's rows in docs/reliability.md's figures table. Needs root for item 6 (it mounts a small tmpfs)
# and PostgreSQL 15's binaries for the PostgreSQL items, as the test suite does.
set -euo pipefail
cd "$(dirname "$0")/.."

filter="FullyQualifiedName~Cadre.Server.Tests.Battery"
if [ $# -gt 0 ]; then
  items=$(printf 'Battery=%s|' "$@")
  filter="$filter&(${items%|})"
fi

report=$(mktemp)
trap 'rm -f "$report" "$report.rows"' EXIT
status=0
CADRE_BATTERY=full CADRE_BATTERY_REPORT="$report" dotnet test tests/Cadre.Server.Tests -p:CadreBuildWeb=false \
  --filter "$filter" --logger "console;verbosity=normal" || status=$?

echo
echo "Figures:"
jq -r '"| \(.item) | \(.scenario) | \(.figures) | \(.at) |"' "$report" | sort -t'|' -k2,2n -k3,3 | tee "$report.rows"

# Replace the rows of the scenarios that ran, keep the others, keep the table sorted by item.
doc=docs/reliability.md
awk -v rows="$report.rows" '
  function key(line,   cells) { split(line, cells, "|"); return cells[2] "|" cells[3] }
  BEGIN { while ((getline line < rows) > 0) { fresh[key(line)] = line; order[++n] = line } }
  /<!-- battery-figures:begin -->/ { print; inside = 1; next }
  /<!-- battery-figures:end -->/ {
    for (k in kept) all[k] = kept[k]
    for (i = 1; i <= n; i++) all[key(order[i])] = order[i]
    m = 0; for (k in all) sorted[++m] = all[k]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) {
      split(sorted[i], a, "|"); split(sorted[j], b, "|")
      if (a[2] + 0 > b[2] + 0 || (a[2] + 0 == b[2] + 0 && a[3] > b[3])) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
    }
    print "| item | scenario | figures | measured |"; print "|---|---|---|---|"
    for (i = 1; i <= m; i++) print sorted[i]
    inside = 0; print; next
  }
  inside && /^\| [0-9]/ { if (!(key($0) in fresh)) kept[key($0)] = $0; next }
  inside { next }
  { print }
' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
echo "Updated $doc"
exit $status
