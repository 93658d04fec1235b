#!/usr/bin/env bash
# Runs all of livesse's tests on a fresh Debian machine: installs what is
# missing (Chromium for the browser tests, Node.js for the client's tests,
# PostgreSQL for pgnotify and the examples that use it), then checks
# formatting, vet, staticcheck and govulncheck, runs the client's tests and the bundle freshness
# check, and every Go test with the race detector against a throwaway
# PostgreSQL cluster.
#
# With CI=true a missing service is a failure, never a skip (the Go tests
# enforce this themselves).
#
# What passes says little: one line for the client's tests, go test's own
# summary, nothing from PostgreSQL. What fails prints in full, and the exit
# status is not zero.
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

# Output that is only needed when something fails (the client's test
# report, pg_virtualenv's messages) goes to files here, printed on failure.
scratch=$(mktemp -d -t livesse-test.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

echo "test.sh: client (npm ci, npm test)"
# node --test reports twice: in TAP to a file, where "# pass N" gives the
# one line shown on success, and with the spec reporter to the log shown
# on failure (its "failing tests" list comes last, next to this script's
# own verdict).
client_ok=1
{
  (cd web && npm ci --no-audit --no-fund --loglevel=error) &&
    (cd web && NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination=$scratch/client.tap" npm test --silent)
} >"$scratch/client.log" 2>&1 || client_ok=0
tap_count() { [ ! -f "$scratch/client.tap" ] || sed -n "s/^# $1 \([0-9][0-9]*\)\$/\1/p" "$scratch/client.tap" | tail -1; }
passed=$(tap_count pass)
if [ "$client_ok" = 1 ] && [ "${passed:-0}" -gt 0 ]; then
  summary="client: $passed tests passed"
  for kind in skipped todo; do
    n=$(tap_count "$kind")
    [ "${n:-0}" -eq 0 ] || summary+=", $n $kind"
  done
  echo "$summary"
else
  cat "$scratch/client.log" >&2
  if [ "$client_ok" = 1 ]; then
    echo "test.sh: FAILED: client: npm test passed but reported no passing test (no \"# pass N\" in its TAP)" >&2
  else
    echo "test.sh: FAILED: client: npm ci or npm test (output above)" >&2
  fi
  exit 1
fi

echo "test.sh: gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...

# Static checks, by tools pinned here (go install puts them in GOBIN when
# they are missing or were built from another version): staticcheck, and
# govulncheck against a vulnerability database built on this machine from
# golang.org/x/vulndb's OSV files (the module proxy serves that module;
# vuln.go.dev, govulncheck's default, may not be reachable). Vulnerabilities
# that the code calls in a required module fail the run; the standard
# library's are listed as a warning, since they are fixed by a Go release
# and not by this repository (internal/test/vulncheck reads govulncheck's JSON).
staticcheck_pkg=honnef.co/go/tools/cmd/staticcheck@v0.8.2
govulncheck_pkg=golang.org/x/vuln/cmd/govulncheck@v1.9.0
vulndb=golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
gobin=$(go env GOBIN)
gobin=${gobin:-$(go env GOPATH)/bin}
# pinned PKG@VERSION prints the path of PKG's command, installed unless
# the one there was built from VERSION.
pinned() {
  local bin="$gobin/${1%@*}"
  bin="$gobin/${bin##*/}"
  if [ "$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" {print $3}')" != "${1##*@}" ]; then
    (cd "$scratch" && go install "$1") >"$scratch/install.log" 2>&1 || {
      cat "$scratch/install.log" >&2
      echo "test.sh: FAILED: go install $1" >&2
      return 1
    }
  fi
  echo "$bin"
}
echo "test.sh: staticcheck"
staticcheck=$(pinned "$staticcheck_pkg")
"$staticcheck" ./...
echo "test.sh: govulncheck (offline, against $vulndb)"
govulncheck=$(pinned "$govulncheck_pkg")
indexdb=$(pinned "golang.org/x/vulndb/cmd/indexdb@${vulndb##*@}")
(cd "$scratch" && go mod download "$vulndb")
"$indexdb" -vulns "$(go env GOMODCACHE)/$vulndb/data/osv" -out "$scratch/vulndb"
"$govulncheck" -db "file://$scratch/vulndb" -format json ./... >"$scratch/vuln.json"
go run ./internal/test/vulncheck -stdlib=warn <"$scratch/vuln.json"

# pg_virtualenv (Debian's postgresql-common) creates a cluster in a temp
# dir, exports the PG* variables that pgx and internal/test/pgtest read, runs
# the command and drops the cluster afterwards. Left to itself it takes
# 5432 when that is free, says "Creating/Dropping cluster" on stdout and,
# whenever the command fails, prints the last 100 lines of the server log
# there too. Here go test writes straight to the terminal (fds 3 and 4),
# while pg_virtualenv's own output goes to a file, printed only when the
# cluster itself failed: it never got to run go test, or the server was
# no longer up after a failed go test. DATABASE_URL is unset so that the
# tests use that cluster and nothing else.
#
# The port: pg_createcluster takes PGPORT when set. The kernel picks a free
# one (perl comes with postgresql-common); there is a moment between this
# and the server binding it, which only a concurrent bind could hit.
pgport=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
echo "test.sh: go test -race ./... (against a throwaway PostgreSQL on port $pgport)"
pgv_ok=1
env -u DATABASE_URL PGPORT="$pgport" GO_TEST_STATUS="$scratch/go-test.status" \
  pg_virtualenv -t -o max_connections=200 bash -c '
    go test -race -count=1 -timeout 10m ./... >&3 2>&4 && status=0 || status=$?
    cluster=up
    [ "$status" -eq 0 ] || pg_isready -q -t 5 || cluster=down
    echo "$status $cluster" >"$GO_TEST_STATUS"
    exit "$status"' 3>&1 4>&2 >"$scratch/pg_virtualenv.log" 2>&1 || pgv_ok=0
go_status="" cluster=""
[ ! -s "$scratch/go-test.status" ] || read -r go_status cluster <"$scratch/go-test.status"
if [ -z "$go_status" ]; then
  cat "$scratch/pg_virtualenv.log" >&2
  echo "test.sh: FAILED: the throwaway PostgreSQL cluster did not start, go test did not run (pg_virtualenv's output above)" >&2
  exit 1
fi
if [ "$cluster" = down ]; then
  cat "$scratch/pg_virtualenv.log" >&2
  echo "test.sh: FAILED: go test failed and the PostgreSQL server was no longer up afterwards (pg_virtualenv's output and the server log above)" >&2
  exit 1
fi
if [ "$go_status" -ne 0 ]; then
  echo "test.sh: FAILED: go test (exit status $go_status; its output above)" >&2
  exit "$go_status"
fi
if [ "$pgv_ok" = 0 ]; then
  cat "$scratch/pg_virtualenv.log" >&2
  echo "test.sh: FAILED: pg_virtualenv failed after go test passed (its output above)" >&2
  exit 1
fi
echo "test.sh: all passed"
