#!/usr/bin/env bash
# The whole test suite (README, "Quick start", command 2). Needs only the Rust toolchain and
# Python 3: everything else goes into ./.venv from requirements-dev.txt (pinned).
#
#   1. cargo fmt --check, cargo clippy (all targets, warnings are errors)
#   2. moto server on 127.0.0.1 (a free port, scripts/moto_server.py), then every cargo test: unit, store contract
#      and end-to-end suites on the memory store and on DynamoDB through the real AWS SDK
#   3. sam validate, cfn-lint on the SAM-translated template, and the checks only the
#      translated template allows (scripts/check_translated_template.py)
#   4. the local server (DynamoDB mode, against moto), then schemathesis on every operation
#      of its OpenAPI document: no 5xx, responses match the document; then a full order over
#      HTTP whose e-mail must appear in the server's outbox folder as a MIME .eml, and a signed
#      webhook delivered to a receiver on loopback after one failed attempt
#   5. the post-deploy smoke test (scripts/smoke.py) against that local server; the
#      fault-injection soak (scripts/fault_soak.py: concurrent buyers, then the order-emails
#      Lambda binary, through a proxy that throttles, fails, delays and loses answers after the
#      write committed); one sample event through each function's real Lambda binary
#      (scripts/invoke.py --all), and the functions' `cargo lambda watch` loop with local/watch.env
#   6. the quick start's demo server (--demo): its printed accounts, its API explorer (/docs)
#      driven in headless Chromium (Debian's chromium and chromedriver, installed with apt-get
#      when missing; screenshot in target/explorer.png), Stripe's official Python client against
#      its payment provider (scripts/stripe_client_check.py), and an order whose e-mail file appears
#      and renders in Chromium with the shop's name, currency, date and link (target/email.png)
#   7. `sam build` with samconfig.toml (cargo lambda, arm64): each function's bootstrap is an
#      arm64 executable. Debug profile (SAM_BUILD_MODE=debug): the path is the deploy's; the
#      release profile (fat LTO, one codegen unit) builds slower and checks nothing more
#
# Everything it starts is stopped on exit, failed or not.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
# Every build here is a one-shot build: incremental compilation's caches would only take disk
# (gigabytes over the host, test and arm64 builds) without making this run faster.
export CARGO_INCREMENTAL=0
VENV="$ROOT/.venv"
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"

step() { printf '\n== %s\n' "$*"; }

pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        # A negative entry is a process group (a server and the children it runs).
        kill -- "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

step "tools: $VENV"
source scripts/venv.sh

free_port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { # url, what, log
    for _ in $(seq 1 300); do
        if "$PY" -c 'import sys,urllib.request;urllib.request.urlopen(sys.argv[1],timeout=1)' "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "$2 did not start; its log:" >&2
    cat "$3" >&2
    return 1
}

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "moto server"
# Requests one at a time, so transactions are as serializable as DynamoDB's (see the script).
moto_port="$(free_port)"
"$PY" scripts/moto_server.py 127.0.0.1 "$moto_port" >"$LOGS/moto.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$moto_port/moto-api/" "moto server" "$LOGS/moto.log"
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
echo "moto server on $AWS_ENDPOINT_URL"

step "cargo test --workspace"
cargo test --workspace --locked

step "sam validate"
SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" validate --template template.yaml --region us-east-1

step "cfn-lint on the SAM-translated template"
"$PY" scripts/sam_translate.py template.yaml >"$ROOT/target/template.cfn.json"
"$VENV/bin/cfn-lint" --regions us-east-1 -- "$ROOT/target/template.cfn.json"
echo "cfn-lint: no findings"
# What only the translated template shows: one stage, the gateway's 404 and every path's ANY,
# creation order and retained resources, FILLed alarms, the WAF's path match, IAM by key.
"$PY" scripts/check_translated_template.py "$ROOT/target/template.cfn.json"

step "schemathesis against the local server (DynamoDB store on moto)"
# The nine function binaries too (debug), for the real-binary invocations below.
cargo build --locked -p local -p auth -p products -p coupons -p cart -p orders -p order-emails \
    -p order-webhooks -p outbox-relay -p payment-jobs
api_port="$(free_port)"
admin_email="schemathesis-admin@shop.test"
admin_password="$("$PY" -c 'import secrets;print(secrets.token_urlsafe(24))')"
TABLE_NAME="shop-schemathesis-$api_port-$$" SHOP_ADMIN_EMAIL="$admin_email" SHOP_ADMIN_PASSWORD="$admin_password" \
    WEBHOOK_RETRY_BASE_SECONDS=1 RUST_LOG=warn "$ROOT/target/debug/local" --port "$api_port" --store dynamodb --outbox "$LOGS/outbox" --metrics "$LOGS/local-metrics.jsonl" \
    >"$LOGS/local.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$api_port"
wait_http "$api/openapi.json" "the local server" "$LOGS/local.log"
token="$("$PY" - "$api" "$admin_email" "$admin_password" <<'PY'
import json, sys, urllib.request
api, email, password = sys.argv[1:]
request = urllib.request.Request(
    f"{api}/auth/login",
    data=json.dumps({"email": email, "password": password}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(request))["tokens"]["access_token"])
PY
)"
# One worker: with two, hypothesis parses sources in two threads at once, and CPython 3.11's
# AST constructor can then fail spuriously ("AST constructor recursion depth mismatch",
# python/cpython#106905), which schemathesis reports as a runtime error of an operation.
schemathesis() {
    SCHEMATHESIS_TELEMETRY=false "$VENV/bin/st" --no-color run "$api/openapi.json" \
        --url "$api" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --max-examples 60 \
        --workers 1 \
        --seed 20261124 \
        --generation-database none \
        "$@"
}
# Logout ends the admin session the token belongs to, so it runs last, on its own.
schemathesis --exclude-path /auth/logout
schemathesis --include-path /auth/logout

step "a full order over HTTP against the local server writes the customer's e-mail"
"$PY" scripts/local_order_email.py "$api" "$admin_email" "$admin_password" "$LOGS/outbox"

step "webhooks against the local server: a receiver that fails, then accepts (scripts/local_webhook.py)"
"$PY" scripts/local_webhook.py "$api" "$admin_email" "$admin_password"

step "the post-deploy smoke test against the local server (scripts/smoke.py)"
SMOKE_ADMIN_EMAIL="$admin_email" SMOKE_ADMIN_PASSWORD="$admin_password" "$PY" scripts/smoke.py "$api"

step "fault-injection soak: 60 buyers through a proxy that throttles, fails and loses answers (scripts/fault_soak.py)"
# Its own moto server and local server; 20 % of DynamoDB and SES requests faulted (+5 % delayed),
# a fixed seed; then the order-emails Lambda binary under the same faults. About a minute.
"$PY" scripts/fault_soak.py "$ROOT/target/debug" "$LOGS" --buyers 60 --rate 0.2 --seed 20261204 --budget 240

step "every function's real Lambda binary answers its sample event (scripts/invoke.sh --all)"
# A Runtime API on loopback instead of Docker; its own moto server and local server.
(cd scripts && "$PY" invoke.py ../target/debug --all)

step "the functions' cargo lambda watch loop (local/watch.env, table made by local --create-table)"
# local/watch.env with this run's moto server and a table of its own.
watch_env="$LOGS/watch.env"
sed -e "s|^AWS_ENDPOINT_URL=.*|AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL|" -e "s|^TABLE_NAME=.*|TABLE_NAME=shop-watch-$$|" \
    local/watch.env >"$watch_env"
env $(grep -v '^#' "$watch_env" | xargs) "$ROOT/target/debug/local" --create-table
# `cargo lambda watch -p products` builds that package alone, whose dependencies' features
# differ from the workspace build above: build it the same way first, so the loop starts at once.
cargo build --locked -p products >"$LOGS/watch-build.log" 2>&1 \
    || { tail -40 "$LOGS/watch-build.log" >&2; echo "cargo build -p products failed" >&2; exit 1; }
watch_port="$(free_port)"
setsid cargo lambda watch --env-file "$watch_env" --invoke-port "$watch_port" -p products >"$LOGS/watch.log" 2>&1 &
watch_group=$!
pids+=("-$watch_group")
# One patient request once the emulator listens (it answers when the function has started;
# a client that gives up while it starts leaves the emulator waiting on it).
"$PY" - "$watch_port" "$LOGS/watch.log" <<'PY'
import socket, sys, time, urllib.request
port, log = int(sys.argv[1]), sys.argv[2]
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.2)
url = f"http://127.0.0.1:{port}/lambda-url/products/products/all_products"
try:
    with urllib.request.urlopen(url, timeout=600) as response:
        status = response.status
except Exception as error:  # the log says why
    sys.stderr.write(open(log).read()[-4000:])
    sys.exit(f"cargo lambda watch: {url} did not answer: {error}")
if status != 200:
    sys.exit(f"cargo lambda watch: {url} answered {status}")
PY
cargo lambda invoke products --data-file events/products-all_products.json --invoke-port "$watch_port" \
    >"$LOGS/watch-invoke.json"
"$PY" - "$LOGS/watch-invoke.json" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
if answer.get("statusCode") != 200 or "products" not in json.loads(answer["body"]):
    sys.exit(f"cargo lambda invoke of products answered {answer}")
print("cargo lambda watch: products answered 200 over its function URL and to cargo lambda invoke")
PY
kill -- "-$watch_group" 2>/dev/null || true

step "the demo shop (--demo) and its API explorer (/docs) in headless Chromium"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    as_root=()
    [[ "$(id -u)" -eq 0 ]] || as_root=(sudo)
    apt_install() {
        DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q chromium chromium-driver
    }
    echo "installing Debian's chromium and chromium-driver (log: $LOGS/apt.log)"
    apt_install >"$LOGS/apt.log" 2>&1 \
        || { "${as_root[@]}" apt-get update -q >>"$LOGS/apt.log" 2>&1 && apt_install >>"$LOGS/apt.log" 2>&1; } \
        || { tail -20 "$LOGS/apt.log" >&2; echo "could not install chromium" >&2; exit 1; }
fi
demo_port="$(free_port)"
SHOP_DEMO=1 RUST_LOG=warn SHOP_NAME="Demo Shop" ORDER_URL_TEMPLATE="http://127.0.0.1:$demo_port/orders/{order_id}" \
    "$ROOT/target/debug/local" --port "$demo_port" --outbox "$LOGS/demo-outbox" --metrics "$LOGS/demo-metrics.jsonl" \
    >"$LOGS/demo.log" 2>&1 &
pids+=($!)
demo="http://127.0.0.1:$demo_port"
wait_http "$demo/docs" "the demo server" "$LOGS/demo.log"
# The credentials are read from what the server printed, as a newcomer would.
read -r demo_email demo_password < <(awk '/Admin:/ {print $2, $4; exit}' "$LOGS/demo.log") || true
[[ -n "${demo_password:-}" ]] || { cat "$LOGS/demo.log" >&2; echo "no demo admin printed" >&2; exit 1; }
"$PY" scripts/explorer_browser.py "$demo" "$demo_email" "$demo_password" "$ROOT/target/explorer.png"
# The demo serves the Stripe-compatible provider: Stripe's official client works against it.
"$PY" scripts/stripe_client_check.py "$demo/provider/stripe"
"$PY" scripts/local_order_email.py "$demo" "$demo_email" "$demo_password" "$LOGS/demo-outbox"
# That e-mail as a mail client shows it: the shop's name, € amounts, a readable date, the link.
"$PY" scripts/email_browser.py "$LOGS/demo-outbox" "Demo Shop" "€" "$ROOT/target/email.png"
# The README's payment walk-through: pm_card_visa, the signed event, the e-mails, a refund.
"$PY" scripts/demo_payment.py "$demo" "$demo_email" "$demo_password" "$LOGS/demo-outbox"
"$PY" scripts/email_browser.py "$LOGS/demo-outbox" "Demo Shop" "€" "$ROOT/target/email-paid.png" paid
# The local server writes the functions' CloudWatch EMF lines to its metrics file (the order
# above is among them), and none to the terminal, which keeps the banner and the request log.
"$PY" - "$LOGS/demo-metrics.jsonl" "$LOGS/demo.log" <<'PY'
import sys
sys.path.insert(0, "scripts")
from invoke import emf_metrics
printed = emf_metrics(open(sys.argv[1]).read(), "local")
if emf_metrics(open(sys.argv[2]).read(), "local"):
    sys.exit("the local server printed EMF lines to its terminal")
expected = {"OrdersPlaced", "OrderValue", "LoginSucceeded", "DynamoDbRequests", "EmailsSent"}
missing = expected - printed
if missing:
    sys.exit(f"the local server printed no EMF line for {sorted(missing)} (printed {sorted(printed)})")
print(f"local EMF metrics: {sorted(printed)}")
PY

step "sam build (samconfig.toml; cargo lambda, arm64, debug profile)"
rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
# One cargo invocation for all nine first, so their dependencies compile in parallel; sam
# build then runs cargo lambda per function, as a deployment does, over that cache.
env -u CARGO_TARGET_DIR cargo lambda build --arm64 --locked -p auth -p products -p coupons -p cart -p orders -p order-emails \
    -p order-webhooks -p outbox-relay -p payment-jobs >"$LOGS/cargo-lambda.log" 2>&1 \
    || { tail -40 "$LOGS/cargo-lambda.log" >&2; echo "cargo lambda build failed" >&2; exit 1; }
# sam build copies each bootstrap from <CodeUri>/target: a CARGO_TARGET_DIR elsewhere breaks it.
env -u CARGO_TARGET_DIR SAM_CLI_TELEMETRY=0 SAM_BUILD_MODE=debug "$VENV/bin/sam" build --region us-east-1 \
    --build-dir "$ROOT/target/sam/build" --cache-dir "$ROOT/target/sam/cache" >"$LOGS/sam-build.log" 2>&1 \
    || { tail -40 "$LOGS/sam-build.log" >&2; echo "sam build failed" >&2; exit 1; }
"$PY" scripts/check_sam_build.py template.yaml "$ROOT/target/sam/build"

step "all checks passed"
