#!/usr/bin/env bash
# Load on the cloud's change feed (GET /v1/sync) with wrk, on this machine.
#
#   cloud/bench/sync-load.sh [LOCKS] [CODES_PER_LOCK] [SECONDS] [CONNECTIONS]
#
# Starts its own release-built cloud on a free loopback port with a fresh
# database, seeds one account with LOCKS x CODES_PER_LOCK codes through the API
# (default 50 x 200 = 10,000), then runs two loads of SECONDS each (default 10)
# with CONNECTIONS connections (default 8) on 2 wrk threads:
#   - poll: the sync of a phone that is up to date (cursor at the head: an empty page);
#   - page: a page of 500 codes (cursor 0, limit 500), the heaviest answer.
# Prints requests/s and latency percentiles. wrk shares the machine's cores with
# the cloud, so the figures are a floor.
set -euo pipefail

locks=${1:-50}
codes=${2:-200}
seconds=${3:-10}
connections=${4:-8}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
        sudo apt-get install -y wrk >/dev/null
    fi
fi

cargo build --release -q -p tessera-cloud --bin tessera-cloud --example sync_seed
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn target/release/tessera-cloud serve --bind 127.0.0.1:0 --db "$work/cloud.db" \
    >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/stdout")
[ -n "$url" ] || { echo "the cloud did not start:" >&2; cat "$work/stderr" >&2; exit 1; }

echo "cloud at $url (pid $server_pid); seeding $locks locks x $codes codes" >&2
eval "$(target/release/examples/sync_seed "$url" "$locks" "$codes")"

run() {
    local name=$1 path=$2
    local out
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $TOKEN" "$url$path")
    local rps p50 p99 transfer
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    transfer=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "$out" >&2
        echo "errors during the $name load" >&2
        exit 1
    fi
    printf '%-5s %-32s %10s req/s   p50 %8s   p99 %8s   %s/s\n' "$name" "$path" "$rps" "$p50" "$p99" "$transfer"
}

echo "GET /v1/sync, $connections connections, ${seconds}s each, $CHANGES changes in the feed:"
run poll "/v1/sync?cursor=$HEAD_CURSOR"
run page "/v1/sync?cursor=0&limit=500"
