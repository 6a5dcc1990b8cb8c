#!/usr/bin/env bash
# Every performance figure of the project in one report: writes BENCHMARKS.md (docs/performance.md,
# "Performance"). Not part of scripts/test.sh's pass/fail; needs only the Rust toolchain and
# Python 3, like the test command (tools go into ./.venv). Takes about 25 minutes on 2 cores.
#
#   1. release builds: x86-64 binaries for the timings, arm64 zips (cargo lambda) for sizes
#   2. cold starts of the eight functions through TLS (scripts/cold_starts.py, RUNS each)
#   3. DynamoDB requests per route (tests/tests/request_counts.rs against moto)
#   4. in-process latency of every route on the memory store (cargo bench --bench routes)
#   5. a load test of the local server on the memory store, server and generator pinned to
#      different cores (cargo bench --bench load)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
RUNS="${RUNS:-21}"
LOAD_SECONDS="${LOAD_SECONDS:-10}"
OUT=target/bench
mkdir -p "$OUT"
functions=(auth products coupons cart orders order-emails order-webhooks outbox-relay payment-jobs)
pkgs=(); for f in "${functions[@]}"; do pkgs+=(-p "$f"); done

wait_http() { "$PY" -c 'import sys,time,urllib.request
for _ in range(300):
    try: urllib.request.urlopen(sys.argv[1], timeout=1); sys.exit(0)
    except Exception: time.sleep(0.2)
sys.exit(sys.argv[1] + " did not answer")' "$1"; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "== release builds"
cargo build --release --quiet "${pkgs[@]}" -p local
cargo lambda build --release --arm64 --output-format zip "${pkgs[@]}" > "$OUT/lambda-build.log" 2>&1
for f in "${functions[@]}"; do
    printf '%s %s %s\n' "$f" "$(stat -c %s "target/lambda/$f/bootstrap.zip")" \
        "$(unzip -l "target/lambda/$f/bootstrap.zip" | awk '/bootstrap$/ {print $1}')"
done > "$OUT/sizes.txt"
cat "$OUT/sizes.txt"

echo "== cold starts through TLS ($RUNS each)"
(cd scripts && "$PY" cold_starts.py ../target/release "$RUNS" "../$OUT/cold.json")

echo "== DynamoDB requests per route"
port="$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
"$PY" scripts/moto_server.py 127.0.0.1 "$port" > "$OUT/moto.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$port/moto-api/"
AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    cargo test --quiet -p e2e --test suite request_counts::no_route_costs -- --nocapture 2>/dev/null \
    | grep '^|' > "$OUT/requests.md"

echo "== in-process latency per route"
cargo bench --quiet -p e2e --bench routes 2>/dev/null | grep '^|' > "$OUT/routes.md"

echo "== load test (server on core 0, generator on core 1, ${LOAD_SECONDS} s each)"
cargo bench --quiet -p e2e --bench load --no-run 2>/dev/null
shop_port="$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
export SHOP_ADMIN_EMAIL=load-admin@shop.test SHOP_ADMIN_PASSWORD=a-load-admin-password
JWT_SECRET=a-load-test-secret-of-at-least-32-bytes RUST_LOG=warn SHOP_OUTBOX_DIR="$OUT/outbox" \
    taskset -c 0 target/release/local --port "$shop_port" > "$OUT/local.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$shop_port/products/all_products"
: > "$OUT/load.jsonl"
for scenario in "public 32 200000" "authenticated 32 200000" "order 8 20000"; do
    set -- $scenario
    taskset -c 1 cargo bench --quiet -p e2e --bench load -- \
        "http://127.0.0.1:$shop_port" "$1" "$2" "$LOAD_SECONDS" "$3" 2>/dev/null | tee -a "$OUT/load.jsonl"
done

echo "== BENCHMARKS.md"
"$PY" scripts/bench_report.py "$OUT" > BENCHMARKS.md
echo "written: BENCHMARKS.md"
