"""The fault-injection soak: concurrent buyers against the local server on DynamoDB (moto),
with scripts/fault_proxy.py between them that throttles, fails, loses answers after the write
committed, and delays a seeded share of the DynamoDB and SES requests. Then the order-emails
Lambda binary under the same faults. Checks what a shop must keep true whatever the network
does, and prints the figures.

Phase 1, the local server (its in-process e-mail and webhook workers included):
  every buyer registers, logs in, adds one unit to the cart and checks out (half of them
  with an Idempotency-Key on the cart write and the checkout, half without), retrying each
  request on 5xx as a patient client does (after Retry-After). The stock is smaller than the
  number of buyers, so some are refused. Afterwards, with faults off:
  - every buyer's final answer matches the system: a 201 has exactly that order, a refusal
    has none (no ghost order, no missing one);
  - each order holds exactly one unit;
  - stock left + units in orders = initial stock;
  - exactly one order-placed e-mail sent per order (the server's EmailsSent metric), each
    written to the outbox folder, and exactly one webhook delivery per order event;
  - no 5xx was answered except 503 with Retry-After.
Phase 2, the order-emails Lambda binary (a Runtime API on loopback, scripts/lambda_rig.py):
  a Shipped event per order, each delivered twice (SQS is at-least-once), in batches of 10
  to four instances of the binary at once;
  the messages it reports failed are delivered again, as SQS does, up to the queue's
  maxReceiveCount. Then every order has its e-mail in SES, and the only extra copies are
  those of SES requests whose answer was lost after SES accepted them: SES has no idempotency
  key, so no sender can tell those apart, and the e-mail is sent again rather than lost.

Bounded: the buyers' phase stops after --budget seconds, and each request after 40 tries.

Usage: python scripts/fault_soak.py BIN_DIR LOG_DIR [--buyers 60] [--seed 20261204]
           [--rate 0.2] [--budget 240]
It starts a moto server of its own (scripts/moto_server.py) on a free loopback port.
"""

import argparse
import collections
import concurrent.futures
import http.server
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_rig  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

EVENT_ID_HEADER = "shop-event-id"
# Concurrent order-emails Lambda instances in phase 2.
INSTANCES = 4


class Failed(Exception):
    """An invariant that does not hold."""


def check(condition, message, buyer=None):
    if not condition:
        raise Failed(message + (f"; its requests: {buyer.trace}" if buyer else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, headers=None):
    """One request: (status, headers, parsed body); (None, {}, reason) when nothing answered."""
    return lambda_rig.request(base, method, path, token, body, headers, timeout=60)


class Receiver:
    """A webhook receiver on loopback that accepts everything and counts each event id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = collections.Counter()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.events[self.headers.get(EVENT_ID_HEADER)] += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def counts(self):
        with self.lock:
            return dict(self.events)


class Buyer:
    """One customer's way through the shop, retrying on 5xx like a patient client."""

    def __init__(self, soak, index, keyed):
        self.soak, self.index, self.keyed = soak, index, keyed
        self.email = f"soak-{soak.tag}-{index}@shop.test"
        self.password = "a-good-password"
        self.answers = {}  # step -> (status, body) of the final answer
        self.trace = []  # every answer: (step, status, error code)
        self.token = None

    def request(self, step, method, path, body=None, key=None):
        headers = {"Idempotency-Key": key} if key else None
        for attempt in range(1, 41):
            status, answer_headers, answer = call(self.soak.api, method, path, self.token, body,
                                                  headers)
            self.soak.record(step, status, answer_headers, answer, attempt)
            code = answer.get("error") if isinstance(answer, dict) else answer
            self.trace.append((step, status, code))
            # A 409 `…_busy` says the request kept meeting concurrent changes: try again.
            retryable = status is None or status >= 500 or (
                status == 409 and isinstance(answer, dict)
                and str(answer.get("error", "")).endswith("_busy"))
            if not retryable or time.monotonic() > self.soak.deadline:
                self.answers[step] = (status, answer)
                return status, answer
            wait = float(answer_headers.get("retry-after", "0.2") or 0.2)
            time.sleep(min(wait, 1.0) * random.uniform(0.5, 1.0))
        self.answers[step] = (status, answer)
        return status, answer

    def run(self):
        credentials = {"email": self.email, "password": self.password}
        status, _ = self.request("register", "POST", "/auth/register", credentials)
        if status != 201:
            return
        status, answer = self.request("login", "POST", "/auth/login", credentials)
        if status != 200:
            return
        self.token = answer["tokens"]["access_token"]
        self.user_id = answer["user"]["id"]
        key = f"soak-{self.soak.tag}-{self.index}"
        line = {"product_id": self.soak.product, "quantity": 1}
        status, _ = self.request("add_item", "POST", "/cart/add_item", line,
                                 key=f"{key}-add" if self.keyed else None)
        if status != 200:
            return
        self.request("checkout", "POST", "/orders/create", {},
                     key=f"{key}-checkout" if self.keyed else None)


class Soak:
    def __init__(self, args):
        self.args = args
        self.tag = uuid.uuid4().hex[:8]
        self.lock = threading.Lock()
        self.statuses = collections.Counter()  # (step, status) -> answers
        self.bad = []  # 5xx answers other than 503 with Retry-After
        self.retries = 0
        self.deadline = float("inf")

    def record(self, step, status, headers, answer, attempt):
        with self.lock:
            self.statuses[(step, status)] += 1
            self.retries += attempt > 1
            if status is None or (status >= 500 and not (status == 503 and "retry-after" in headers)):
                self.bad.append((step, status, answer))


def emf_sum(metrics_path, function, metric):
    """The sum of `metric` over the EMF lines `function` wrote."""
    total = 0
    with open(metrics_path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if document.get("function") == function and metric in document:
                total += document[metric]
    return total


def wait_for(what, condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    check(condition(), f"{what} within {seconds} s")


def phase_one(args, soak, proxy):
    """The buyers against the local server; returns (table, placed orders as (buyer, order))."""
    table = f"shop-soak-{soak.tag}"
    admin_email, admin_password = f"soak-admin-{soak.tag}@shop.test", secrets.token_urlsafe(18)
    port = free_port()
    outbox = os.path.join(args.logs, "soak-outbox")
    env = dict(os.environ, AWS_ENDPOINT_URL=proxy.url, TABLE_NAME=table,
               SHOP_ADMIN_EMAIL=admin_email, SHOP_ADMIN_PASSWORD=admin_password,
               JWT_SECRET=secrets.token_urlsafe(48), SHOP_VISIBILITY_TIMEOUT_SECONDS="2",
               WEBHOOK_RETRY_BASE_SECONDS="1", RUST_LOG="warn")
    log_path = os.path.join(args.logs, "soak-local.log")
    metrics_path = os.path.join(args.logs, "soak-metrics.jsonl")
    log = open(log_path, "w")
    server = subprocess.Popen([os.path.join(args.bin_dir, "local"), "--port", str(port),
                               "--store", "dynamodb", "--outbox", outbox,
                               "--metrics", metrics_path],
                              env=env, stdout=log, stderr=log)
    soak.api = f"http://127.0.0.1:{port}"
    try:
        return run_buyers(args, soak, proxy, admin_email, admin_password, outbox,
                          log_path, metrics_path) + (table,)
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def run_buyers(args, soak, proxy, admin_email, admin_password, outbox, log_path,
               metrics_path):
    for _ in range(300):
        if call(soak.api, "GET", "/openapi.json")[0] == 200:
            break
        time.sleep(0.2)
    else:
        raise Failed(f"the local server did not start (log: {log_path})")
    status, _, admin = call(soak.api, "POST", "/auth/login",
                            body={"email": admin_email, "password": admin_password})
    check(status == 200, f"admin login: {status} {admin}")
    admin_token = admin["tokens"]["access_token"]
    stock = args.buyers - max(2, args.buyers // 8)
    product = {"name": f"Soak lamp {soak.tag}", "category": "soak",
               "variants": [{"sku": f"SOAK-{soak.tag}", "stock": stock, "price": "12.50"}]}
    status, _, created = call(soak.api, "POST", "/products/create_product", admin_token, product)
    check(status == 201, f"create product: {status} {created}")
    soak.product = created["product"]["id"]
    receiver = Receiver()
    hook = {"url": receiver.url, "events": ["order.placed"]}
    status, _, created = call(soak.api, "POST", "/admin/webhooks", admin_token, hook)
    check(status == 201, f"create webhook: {status} {created}")

    buyers = [Buyer(soak, i, keyed=i % 2 == 0) for i in range(args.buyers)]
    barrier = threading.Barrier(len(buyers))

    def run(buyer):
        barrier.wait()
        buyer.run()

    threads = [threading.Thread(target=run, args=(b,)) for b in buyers]
    proxy.enabled = True
    started = time.monotonic()
    soak.deadline = started + args.budget
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    soak.elapsed = time.monotonic() - started
    proxy.enabled = False
    check(time.monotonic() <= soak.deadline, f"the buyers took over {args.budget} s")

    # Every buyer's final answers against the system.
    placed = []
    for buyer in buyers:
        register = buyer.answers.get("register", (None,))[0]
        login = buyer.answers.get("login", (None,))[0]
        check(register == 201, f"{buyer.email}: register answered {buyer.answers.get('register')}")
        check(login == 200, f"{buyer.email}: login answered {buyer.answers.get('login')}")
        status, orders_answer = call(soak.api, "GET", "/orders", buyer.token)[::2]
        check(status == 200, f"{buyer.email}: listing orders: {status}")
        orders = orders_answer["orders"]
        add = buyer.answers.get("add_item", (None, None))
        checkout = buyer.answers.get("checkout", (None, None))
        if checkout[0] == 201:
            ids = [o["id"] for o in orders]
            check(ids == [checkout[1]["order"]["id"]],
                  f"{buyer.email}: checkout answered order {checkout[1]['order']['id']}, the system holds {ids}", buyer)
            units = [item["quantity"] for item in orders[0]["items"]]
            check(units == [1], f"{buyer.email} asked for 1 unit; the order holds {units}", buyer)
            placed.append((buyer, orders[0]))
        else:
            check(orders == [], f"{buyer.email}: answered {checkout[0] or add[0]} "
                                f"({(checkout[1] or add[1])}), yet the system holds orders {orders}", buyer)
            refused = checkout[1] if checkout[0] else add[1]
            check(add[0] in (200, 409) and checkout[0] in (None, 409),
                  f"{buyer.email}: add {add[0]}, checkout {checkout[0]}: {refused}", buyer)
            if add[0] == 200:
                cart = call(soak.api, "GET", "/cart/details", buyer.token)[2]
                quantities = [item["quantity"] for item in cart["items"]]
                check(quantities == [1], f"{buyer.email} added 1 unit; the cart holds {quantities}", buyer)
    status, _, product = call(soak.api, "GET", f"/products/{soak.product}")
    left = product["variants"][0]["stock"]
    sold = sum(1 for _ in placed)
    check(left + sold == stock, f"stock left {left} + units in orders {sold} != initial {stock}")
    check(not soak.bad, f"5xx without Retry-After (or no answer) after retries: {soak.bad[:5]}")

    # One e-mail and one webhook delivery per order.
    wait_for(f"{sold} order e-mails sent",
             lambda: emf_sum(metrics_path, "local", "EmailsSent") >= sold, 90)
    wait_for(f"{sold} webhook deliveries",
             lambda: len(receiver.counts()) >= sold, 90)
    time.sleep(3)  # room for a duplicate to show
    sent = emf_sum(metrics_path, "local", "EmailsSent")
    check(sent == sold, f"{sent} order e-mails sent for {sold} orders")
    files = {name for name in os.listdir(outbox) if name.endswith("-placed.eml")}
    missing = [o["id"] for _, o in placed if f"{o['id']}-placed.eml" not in files]
    check(not missing, f"no e-mail file for orders {missing}")
    deliveries = receiver.counts()
    doubled = {event: n for event, n in deliveries.items() if n != 1}
    check(len(deliveries) == sold and not doubled,
          f"webhook deliveries: {len(deliveries)} events for {sold} orders, repeated {doubled}")
    soak.phase_one = {"orders": sold, "refused": len(buyers) - sold, "stock": stock,
                      "emails_sent": sent, "webhook_deliveries": sum(deliveries.values()),
                      "suppressed": emf_sum(metrics_path, "local", "EmailsDuplicateSuppressed")}
    return (placed,)


def ses_messages(moto):
    with urllib.request.urlopen(f"{moto}/moto-api/data.json", timeout=30) as response:
        return json.load(response).get("ses", {}).get("RawMessage", [])


def phase_two(args, soak, proxy, table, placed):
    """The order-emails Lambda binary under faults, fed as SQS would."""
    moto = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    sender = f"orders-{soak.tag}@shop.test"
    import boto3  # moto's own dependency, in the project's virtualenv
    boto3.client("sesv2", endpoint_url=moto).create_email_identity(EmailIdentity=sender)
    before = len(ses_messages(moto))
    events = {}
    for buyer, order in placed:
        event = {"id": lambda_rig.ulid(), "order_id": order["id"], "user_id": buyer.user_id,
                 "type": "status_changed", "from": "Pending", "to": "Shipped",
                 "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        events[event["id"]] = (buyer.email, event)
    # Each event twice, shuffled: SQS delivers at least once.
    pending = [(str(uuid.uuid4()), json.dumps(e)) for _, e in events.values() for _ in range(2)]
    random.Random(args.seed).shuffle(pending)
    env = dict(os.environ, AWS_ENDPOINT_URL=proxy.url, TABLE_NAME=table, SENDER_ADDRESS=sender,
               RUST_LOG="warn")
    binary = os.path.join(args.bin_dir, "order-emails")
    receives, rounds = collections.Counter(), 0
    started = time.monotonic()
    proxy.enabled = True
    while pending and rounds < 20:
        rounds += 1
        batches = [pending[i:i + 10] for i in range(0, len(pending), 10)]
        sqs_events = [{"Records": [record(message_id, body, receives) for message_id, body in batch]}
                      for batch in batches]
        # Four instances at once, as SQS's event source mapping scales out: two copies of one
        # event can meet in two instances.
        groups = [sqs_events[i::INSTANCES] for i in range(INSTANCES)]
        with concurrent.futures.ThreadPoolExecutor(INSTANCES) as pool:
            results = list(pool.map(lambda group: lambda_rig.run(binary, group, env=env, timeout=180)
                                    if group else {"answers": []}, groups))
        failed = {f["itemIdentifier"] for result in results for answer in result["answers"]
                  for f in (answer or {}).get("batchItemFailures", [])}
        pending = [(m, b) for m, b in pending if m in failed]
        print(f"  order-emails receive {rounds}: {len(batches)} batches, {len(failed)} failed, "
              f"{time.monotonic() - started:.1f} s", flush=True)
    proxy.enabled = False
    check(not pending, f"{len(pending)} messages still failing after {rounds} receives")
    messages = ses_messages(moto)[before:]
    per_recipient = collections.Counter(
        address for m in messages for address in set(m.get("destinations", []))
        if "Shipped" in m.get("raw_data", ""))
    counts = proxy.counts().get("ses", {}).get("SendEmail", {})
    after_commit = counts.get("lost", 0) + counts.get("lost_500", 0)
    unsent = [email for email, _ in events.values() if per_recipient[email] == 0]
    check(not unsent, f"no Shipped e-mail in SES for {unsent}")
    extra = sum(per_recipient.values()) - len(events)
    check(extra == after_commit,
          f"{extra} extra e-mails; SES answers lost after sending: {after_commit} "
          "(any other extra copy is a double send)")
    soak.phase_two = {"events": len(events), "deliveries": 2 * len(events), "rounds": rounds,
                      "messages_in_ses": sum(per_recipient.values()),
                      "extra_copies_from_lost_ses_answers": extra}


def record(message_id, body, receives):
    receives[message_id] += 1
    return {"messageId": message_id, "receiptHandle": message_id, "body": body,
            "attributes": {"ApproximateReceiveCount": str(receives[message_id])},
            "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:soak", "awsRegion": "us-east-1"}


def report(soak, proxy):
    print(f"fault soak: seed {soak.args.seed}, fault rate {soak.args.rate:.0%} "
          f"(+{proxy.delay_rate:.0%} delayed), {soak.args.buyers} buyers "
          f"(half with Idempotency-Key), buyers' phase {soak.elapsed:.1f} s")
    for service, operations in sorted(proxy.counts().items()):
        totals = collections.Counter()
        for counts in operations.values():
            totals.update(counts)
        faults = ", ".join(f"{f} {totals[f]}" for f in ("throttle", "error", "lost", "lost_500", "delay"))
        share = sum(totals[f] for f in ("throttle", "error", "lost", "lost_500")) / max(totals["requests"], 1)
        print(f"  {service}: {totals['requests']} requests, faulted {share:.1%}: {faults}")
        for operation, counts in sorted(operations.items()):
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "requests")
            print(f"    {operation}: {counts['requests']}" + (f" ({detail})" if detail else ""))
    answers = collections.defaultdict(dict)
    for (step, status), n in soak.statuses.items():
        answers[step][status] = n
    for step in ("register", "login", "add_item", "checkout"):
        print(f"  answers to {step}: {dict(sorted(answers[step].items(), key=str))}")
    print(f"  client retries: {soak.retries}")
    print(f"  phase 1 (local server): {soak.phase_one}")
    print(f"  phase 2 (order-emails Lambda binary): {soak.phase_two}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("logs")
    parser.add_argument("--buyers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--budget", type=float, default=240)
    args = parser.parse_args()
    random.seed(args.seed)
    os.makedirs(args.logs, exist_ok=True)
    # A moto server of its own: its state (read back through /moto-api/data.json) holds only
    # this soak's data.
    moto_port = free_port()
    moto_log = open(os.path.join(args.logs, "soak-moto.log"), "w")
    here = os.path.dirname(os.path.abspath(__file__))
    moto = subprocess.Popen([sys.executable, os.path.join(here, "moto_server.py"), "127.0.0.1",
                             str(moto_port)], stdout=moto_log, stderr=moto_log)
    os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
                       "AWS_EC2_METADATA_DISABLED": "true"})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.setdefault(name, "test")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        os.environ.setdefault(name, "us-east-1")
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{moto_port}/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL"], seed=args.seed, rate=args.rate).start()
    soak = Soak(args)
    soak.phase_one = soak.phase_two = None
    try:
        placed, table = phase_one(args, soak, proxy)
        phase_two(args, soak, proxy, table, placed)
    except Failed as failure:
        if soak.phase_one is not None or getattr(soak, "elapsed", None) is not None:
            try:
                report(soak, proxy)
            except Exception:  # the report is a help; the failure is the point
                pass
        sys.exit(f"fault soak FAILED: {failure}")
    finally:
        proxy.stop()
        moto.terminate()
        moto.wait(10)
    report(soak, proxy)


if __name__ == "__main__":
    main()
