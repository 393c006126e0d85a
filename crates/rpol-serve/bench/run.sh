#!/usr/bin/env bash
# The benchmark of docs/serving.md: wrk against a release `rpol serve
# policies/home`, route request. Needs `wrk` (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo build --release -q -p rpol-cli
bin=${CARGO_TARGET_DIR:-target}/release/rpol
port=${PORT:-18181}
"$bin" serve policies/home --listen "127.0.0.1:$port" 2> /tmp/rpol-bench-serve.log &
pid=$!
trap 'kill $pid' EXIT
until curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null; do sleep 0.1; done
dur=${DURATION:-10s}
# CPU time of the server (user + system, clock ticks) from /proc/PID/stat, so
# that figures mean something on a shared machine: run() prints the server's
# CPU microseconds per request (per decision for the batch, PER=1000).
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
run() {
  local before after out reqs
  before=$(cpu)
  out=$(wrk "$@")
  after=$(cpu)
  echo "$out"
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v t=$((after - before)) -v r="$reqs" -v k="$tck" -v per="${PER:-1}" \
    'BEGIN { if (r > 0) printf "server CPU: %.2f s, %.2f us per %s\n", t / k, t / k * 1e6 / (r * per), (per > 1 ? "decision" : "request") }'
}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for c in 1 16 64; do
  t=$(( c < 2 ? c : 2 ))
  echo "== /v1/decide, $c connections, $t threads"
  run -t$t -c$c -d"$dur" --latency -s crates/rpol-serve/bench/decide.lua "http://127.0.0.1:$port"
done
echo "== /health, 16 connections (HTTP alone)"
run -t2 -c16 -d"$dur" --latency "http://127.0.0.1:$port/health"
echo "== /v1/decide/batch, 1000 requests per batch, 4 connections (decisions/s = requests/s x 1000)"
PER=1000 RPOL_BATCH=1000 run -t2 -c4 -d"$dur" --latency -s crates/rpol-serve/bench/batch.lua "http://127.0.0.1:$port"
echo "== /metrics scrape"
for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}s\n' "http://127.0.0.1:$port/metrics"; done
