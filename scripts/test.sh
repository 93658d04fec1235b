#!/usr/bin/env bash
# Runs all of livesse's tests on a fresh Debian machine: installs what is
# missing (Chromium for the browser tests, Node.js for the client's tests,
# PostgreSQL for pgnotify and the examples that use it), then checks
# formatting and vet, runs the client's tests and the bundle freshness
# check, and every Go test with the race detector against a throwaway
# PostgreSQL cluster.
#
# With CI=true a missing service is a failure, never a skip (the Go tests
# enforce this themselves).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
{ [ -x /usr/sbin/nginx ] || command -v nginx; } >/dev/null 2>&1 || missing+=(nginx-light)
{ command -v pg_virtualenv && compgen -G '/usr/lib/postgresql/*/bin/initdb'; } >/dev/null 2>&1 || missing+=(postgresql)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export LIVESSE_CHROMIUM="${LIVESSE_CHROMIUM:-$(command -v chromium)}"

echo "test.sh: client (npm ci, npm test)"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm test --silent)

echo "test.sh: gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...

echo "test.sh: go test -race ./... (against a throwaway PostgreSQL)"
# pg_virtualenv (Debian's postgresql-common) creates a cluster in a temp
# dir on a free loopback port, exports the PG* variables that pgx and
# internal/pgtest read, and drops the cluster afterwards. Its own messages
# go to stderr, so go test's summary ends stdout. DATABASE_URL is unset
# so that the tests use that cluster and nothing else.
env -u DATABASE_URL pg_virtualenv -t -o max_connections=200 \
  bash -c 'exec go test -race -count=1 -timeout 10m ./... >&3' 3>&1 1>&2
