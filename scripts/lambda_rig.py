"""Runs a function's real Lambda binary without Docker: a fake Lambda Runtime API on
127.0.0.1 starts the binary, hands it events one after another and collects its answers,
timing each phase. Also fills the `{{placeholder}}`s of `events/*.json` with real tokens and
ids, made by calling the local server (the same table and the same JWT secret as the binary).

Used by `scripts/invoke.py` (one event, by hand or in the test suite) and by
`scripts/cold_starts.py` (the cold-start figures of BENCHMARKS.md).
"""

import http.server
import json
import os
import re
import subprocess
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The events a function is tried with: `scripts/invoke.py FUNCTION` without an event, and the
# cold-start benchmark. Each needs one DynamoDB request or more, as a first request would.
DEFAULT_EVENTS = {
    "auth": "auth-protected",
    "products": "products-all_products",
    "coupons": "coupons-my_coupons",
    "cart": "cart-details",
    "orders": "orders-mine",
    "order-emails": "order-emails-batch",
    "order-webhooks": "order-webhooks-batch",
    "outbox-relay": None,  # a scheduled event: no file, any JSON
    "payment-jobs": None,  # its schedule's event (payments off here: it answers at once)
}

SCHEDULED_EVENT = {
    "version": "0",
    "id": "00000000-0000-4000-8000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {},
}


def ulid():
    """A new ULID (48-bit millisecond time + 80 random bits, Crockford base32)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def load_event(name, values):
    """`events/<name>.json` with every `{{placeholder}}` replaced from `values`."""
    if name is None:
        return SCHEDULED_EVENT
    path = name if name.endswith(".json") else os.path.join(ROOT, "events", f"{name}.json")
    with open(path) as f:
        text = f.read()

    def value(match):
        key = match.group(1)
        if key not in values:
            raise SystemExit(f"{path}: no value for {{{{{key}}}}}")
        return values[key]

    return json.loads(re.sub(r"\{\{(\w+)\}\}", value, text))


def status_of(answer):
    """The HTTP status of an API answer, or 'ok' for a function that answers plain JSON."""
    if isinstance(answer, dict) and "statusCode" in answer:
        return answer["statusCode"]
    return "ok"


class Runtime:
    """One fake Runtime API serving `events` in order to one process."""

    def __init__(self, events):
        self.events = list(events)
        self.polls = []  # perf_counter of each /next
        self.responses = []  # (perf_counter, answer) of each /response or /error
        self.done = threading.Event()
        self.pid, self.init_cpu_ms = None, None
        rig = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/invocation/next"):
                    self.send_error(404)
                    return
                served = len(rig.polls)
                rig.polls.append(time.perf_counter())
                if served == 0:
                    rig.init_cpu_ms = cpu_ms(rig.pid)
                if served >= len(rig.events):
                    # No more events: hold the poll, unanswered, until the process is stopped.
                    rig.done.wait(30)
                    time.sleep(5)
                    return
                body = json.dumps(rig.events[served]).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:rig")
                self.send_header("Lambda-Runtime-Trace-Id",
                                 "Root=1-00000000-000000000000000000000000;Sampled=0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                answer = json.loads(raw or b"null")
                if self.path.endswith("/error") and isinstance(answer, dict):
                    answer = {"error": answer}
                rig.responses.append((time.perf_counter(), answer))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if len(rig.responses) >= len(rig.events):
                    rig.done.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"


def cpu_ms(pid):
    """CPU time used so far by every thread of process `pid` (from /proc/PID/task/*/schedstat,
    nanosecond resolution): the process's own work, whatever it waited for."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        return None
    return total / 1e6


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run(binary, events, env=None, timeout=60, stderr=subprocess.DEVNULL):
    """Starts `binary` under a fake Runtime API, serves `events`, stops it. Returns a dict:
    init_ms (process start → first poll), init_cpu_ms (CPU time of the process by then), event_ms (each event: handed over → answered),
    answers, peak_rss_kib."""
    runtime = Runtime(events)
    child_env = dict(os.environ if env is None else env)
    child_env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "rig",
        "AWS_LAMBDA_LOG_GROUP_NAME": "rig",
    })
    start = time.perf_counter()
    process = subprocess.Popen([binary], env=child_env, stdout=stderr, stderr=stderr)
    runtime.pid = process.pid
    try:
        if not runtime.done.wait(timeout):
            raise SystemExit(f"{binary} answered {len(runtime.responses)} of {len(events)} events")
        rss = peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        runtime.done.set()
        runtime.server.shutdown()
    polls, responses = runtime.polls, runtime.responses
    return {
        "init_ms": (polls[0] - start) * 1000,
        "init_cpu_ms": runtime.init_cpu_ms,
        "event_ms": [(responses[i][0] - polls[i]) * 1000 for i in range(len(events))],
        "answers": [answer for _, answer in responses],
        "peak_rss_kib": rss,
    }


def request(base, method, path, token=None, body=None, headers=None, timeout=30):
    """One JSON request: (status, lower-cased headers, parsed body), or (None, {}, reason)
    when nothing answered; a body that is not JSON is kept as {"raw": …}."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answered = {k.lower(): v for k, v in response.headers.items()}
            return response.status, answered, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return error.code, {k.lower(): v for k, v in error.headers.items()}, parsed
    except OSError as error:
        return None, {}, str(error)


def call(base, method, path, token=None, body=None, headers=None):
    """A JSON request to the local server; returns (status, parsed body)."""
    status, _, parsed = request(base, method, path, token, body, headers)
    return status, parsed


def expect(result, status, what):
    if result[0] != status:
        raise SystemExit(f"{what}: {result[0]} {result[1]}")
    return result[1]


def seed(base, admin_email, admin_password):
    """A customer with a placed order and a new cart line, a product and an admin session,
    made through the local server at `base`. Returns the placeholder values of `events/`."""
    tag = uuid.uuid4().hex[:10]
    email, password = f"rig-{tag}@shop.test", "a-good-password"
    login = {"email": admin_email, "password": admin_password}
    admin = expect(call(base, "POST", "/auth/login", body=login), 200, "admin login")
    admin_token = admin["tokens"]["access_token"]
    expect(call(base, "POST", "/auth/register", body={"email": email, "password": password}),
           201, "register")
    logged = expect(call(base, "POST", "/auth/login", body={"email": email, "password": password}),
                    200, "login")
    access, refresh = logged["tokens"]["access_token"], logged["tokens"]["refresh_token"]
    product = {"name": f"Rig mug {tag}", "category": "rig",
               "variants": [{"sku": f"RIG-{tag}", "stock": 1000, "price": "8.00"}]}
    created = expect(call(base, "POST", "/products/create_product", admin_token, product), 201,
                     "create product")
    product_id = created["product"]["id"]
    coupon = {"code": "WELCOME-10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z"}
    status, _ = call(base, "POST", "/coupons/create", admin_token, coupon)
    if status not in (201, 409):  # 409: made by an earlier seed on this table
        raise SystemExit(f"create coupon: {status}")
    line = {"product_id": product_id, "quantity": 1}
    expect(call(base, "POST", "/cart/add_item", access, line), 200, "add to cart")
    placed = expect(call(base, "POST", "/orders/create", access, {},
                         {"Idempotency-Key": str(uuid.uuid4())}), 201, "checkout")
    expect(call(base, "POST", "/cart/add_item", access, line), 200, "add to cart again")
    return {
        "access_token": access,
        "refresh_token": refresh,
        "admin_token": admin_token,
        "product_id": product_id,
        "order_id": placed["order"]["id"],
        "user_id": logged["user"]["id"],
        "idempotency_key": str(uuid.uuid4()),
        "placed_event_id": ulid(),
        "shipped_event_id": ulid(),
    }


def wait_http(url, process, log_path, seconds=60, cafile=None):
    import ssl
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=1, context=context)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    with open(log_path) as f:
        raise SystemExit(f"{url} did not start:\n{f.read()}")
