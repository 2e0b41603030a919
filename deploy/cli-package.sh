#!/usr/bin/env bash
# Builds the two packagings of the `cadre` command (docs/cli.md#installing) and checks each as a user would
# get it: the .NET tool package, installed with `dotnet tool install` from the package just made, and the
# self-contained single file for linux-x64. Each must print its version, and `cadre server` must listen,
# answer /healthz and the API with the admin key it printed, and serve the web UI at /.
#
#   deploy/cli-package.sh                       both: the package and the installed tool under src/Cadre.Cli/bin/package
#                                               (OUT=DIR for elsewhere), the single file in src/Cadre.Cli/bin/publish/linux-x64
#   SKIP_SINGLE_FILE=1 deploy/cli-package.sh    the tool package only
#   CADRE_BUILD_WEB=false deploy/cli-package.sh without the web UI (no Node.js needed; / is then not checked)
#
# It takes a few minutes (two Release builds). Not part of `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="${OUT:-$root/src/Cadre.Cli/bin/package}"
build_web="${CADRE_BUILD_WEB:-true}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }

# Starts `$@ server` in a fresh directory on a free port and checks what it serves; stops it with SIGTERM.
check_server() {
  local name="$1"; shift
  local dir="$work/$name-server" log
  mkdir -p "$dir"; log="$dir/server.log"
  (cd "$dir" && exec env -u CADRE_DATABASE -u CADRE_DATA_DIR -u ASPNETCORE_URLS "$@" server --urls http://127.0.0.1:0 >"$log" 2>&1) &
  local pid=$!
  pids+=("$pid")
  local url="" waited=0
  # The banner ends with a blank line; the admin key is in it.
  until url=$(grep -oE '^Cadre is listening on http://[^ ,]+' "$log" | awk '{print $5}') && [ -n "$url" ] && grep -q '^  try: curl' "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "$name: cadre server exited before listening"; }
    [ "$waited" -lt 1200 ] || { cat "$log"; fail "$name: cadre server did not listen within 120 s"; }
    sleep 0.1; waited=$((waited + 1))
  done
  local key
  key=$(grep -A1 '^Instance admin key' "$log" | tail -1 | tr -d ' ')
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "$name: /healthz"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$url/api/v1/workspaces")" = 200 ] || fail "$name: the API with the printed admin key"
  if [ "$build_web" = true ]; then
    curl -s "$url/" | grep -q '<!doctype html>' || fail "$name: the web UI at /"
  fi
  kill -TERM "$pid"
  wait "$pid" || fail "$name: cadre server did not stop cleanly on SIGTERM (exit $?)"
  echo "$name: cadre server listened on $url, answered /healthz and the API$([ "$build_web" = true ] && echo ', served the web UI'), stopped on SIGTERM"
}

version=$(dotnet msbuild src/Cadre.Cli -getProperty:Version)

echo "== .NET tool package"
rm -rf "$out/nupkg" "$out/tool"
dotnet pack src/Cadre.Cli -c Release -o "$out/nupkg" -p:CadreBuildWeb="$build_web" -nologo -v quiet
package="$out/nupkg/Cadre.Cli.$version.nupkg"
[ -f "$package" ] || fail "no $package"
contents=$(unzip -Z1 "$package")
grep -qx 'tools/net10.0/any/appsettings.json' <<<"$contents" || fail "the package lacks the server's appsettings.json"
if [ "$build_web" = true ]; then
  grep -qx 'tools/net10.0/any/wwwroot/index.html' <<<"$contents" || fail "the package lacks the web UI (wwwroot/index.html)"
fi
# Only the package just made: a nuget.config of one source, so nothing of the same name elsewhere is taken.
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="cadre" value="$out/nupkg" />
  </packageSources>
</configuration>
EOF
# Its own package cache: the machine's may hold an older Cadre.Cli of the same version, which would be installed instead.
NUGET_PACKAGES="$work/packages" dotnet tool install --tool-path "$out/tool" --configfile "$work/nuget.config" --version "$version" Cadre.Cli
installed=$("$out/tool/cadre" --version)
[ "${installed%%+*}" = "$version" ] || fail "the installed tool says $installed, not $version"
echo "tool: $out/tool/cadre --version → $installed"
check_server tool "$out/tool/cadre"

if [ -z "${SKIP_SINGLE_FILE:-}" ]; then
  echo "== self-contained single file, linux-x64"
  dotnet publish src/Cadre.Cli -p:PublishProfile=linux-x64 -p:CadreBuildWeb="$build_web" -nologo -v quiet
  single="$root/src/Cadre.Cli/bin/publish/linux-x64/cadre"
  [ "$(find "$(dirname "$single")" -maxdepth 1 -type f | wc -l)" = 1 ] || fail "the publish directory holds more than the one file: $(ls "$(dirname "$single")")"
  # Where it extracts itself on first start; fresh, so this run checks the extraction too.
  export DOTNET_BUNDLE_EXTRACT_BASE_DIR="$work/extract"
  # No .NET on the PATH: it must need none.
  installed=$(env PATH=/usr/bin:/bin "$single" --version)
  [ "${installed%%+*}" = "$version" ] || fail "the single file says $installed, not $version"
  echo "single file: $single ($(du -h "$single" | cut -f1)) --version → $installed"
  check_server single-file env PATH=/usr/bin:/bin "$single"
fi

echo "OK"
