#!/usr/bin/env bash
# Install the Debian packages covid-gis needs, only those missing (idempotent; needs root or sudo to install).
# Usage: scripts/system-deps.sh [--test]   (--test adds what only the test suite needs)
set -euo pipefail
# pgbackrest: `covidgis db backup|restore` (the backup tests need it too)
PACKAGES=(postgresql-15-postgis-3 gdal-bin pgbackrest)
if [ "${1:-}" = "--test" ]; then
  # chromium: the map tests (headless); qgis*: QGIS reads our OGC API in the tests (qgis_process.bin);
  # nginx: the publish folder served as deploy/nginx configures it; pgbouncer: the serving pool (deploy/pgbouncer);
  # wrk: the HTTP benchmarks (benchmarks/serve.py, the capacity model)
  PACKAGES+=(chromium qgis python3-qgis qgis-providers nginx pgbouncer wrk)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
