"""Cold starts of every function's release binary through TLS, for BENCHMARKS.md.

usage: cold_starts.py BIN_DIR RUNS OUT_JSON

moto serves HTTPS on loopback with a certificate authority made for the run, which the
binaries trust through SSL_CERT_FILE (the SDK's normal certificate loading). Each run starts
the binary under the fake Runtime API (lambda_rig) and hands it two events: the first is what
a cold start's first customer waits for, the second the same work on a warm instance. Writes,
per function: init (process start → first poll), first and warm event times (median, p90),
peak RSS, and the answers' statuses.
"""

import json
import statistics
import sys
import uuid

import lambda_rig
from stack import Stack
from checks import check


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values):
    return {"median": statistics.median(values), "p90": percentile(values, 90)}


def customer(stack, n):
    """A second and third customer for checkouts (each run places two orders)."""
    email = f"bench-{n}-{uuid.uuid4().hex[:8]}@shop.test"
    body = {"email": email, "password": "a-good-password"}
    lambda_rig.expect(lambda_rig.call(stack.base, "POST", "/auth/register", body=body), 201, "register")
    logged = lambda_rig.expect(lambda_rig.call(stack.base, "POST", "/auth/login", body=body), 200, "login")
    return logged["tokens"]["access_token"]


def fill_cart(stack, token):
    line = {"product_id": stack.values["product_id"], "quantity": 1}
    lambda_rig.expect(lambda_rig.call(stack.base, "POST", "/cart/add_item", token, line), 200, "add")


def shipped_event(stack, token):
    """An SQS batch with one status-change event of a new order (never e-mailed before)."""
    fill_cart(stack, token)
    placed = lambda_rig.expect(lambda_rig.call(stack.base, "POST", "/orders/create", token, {}),
                               201, "checkout")
    batch = lambda_rig.load_event("order-emails-batch", dict(
        stack.values, order_id=placed["order"]["id"], user_id=placed["order"]["user_id"],
        placed_event_id=lambda_rig.ulid(), shipped_event_id=lambda_rig.ulid()))
    batch["Records"] = batch["Records"][1:]
    return batch


def events_for(function, stack, buyers):
    """The two events of one run (preparing what they need outside the timed part)."""
    values = stack.values
    if function == "orders":
        pair = []
        for token in buyers:
            fill_cart(stack, token)
            pair.append(lambda_rig.load_event("orders-create", dict(
                values, access_token=token, idempotency_key=str(uuid.uuid4()))))
        return pair
    if function == "order-emails":
        return [shipped_event(stack, token) for token in buyers]
    event = lambda_rig.load_event(lambda_rig.DEFAULT_EVENTS[function], values)
    return [event, event]


def moto_floor(stack, runs):
    """What the endpoint itself takes for one warm-up: a new TLS connection and one GetItem,
    timed from a client that is already running (median ms). The part of init no change to
    the binaries can remove."""
    import http.client
    import ssl
    import time
    from urllib.parse import urlparse

    endpoint = urlparse(stack.env["AWS_ENDPOINT_URL"])
    context = ssl.create_default_context(cafile=stack.env["SSL_CERT_FILE"])
    body = json.dumps({"TableName": stack.env["TABLE_NAME"],
                       "Key": {"PK": {"S": "WARMUP"}, "SK": {"S": "WARMUP"}}})
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    }
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        connection = http.client.HTTPSConnection(endpoint.hostname, endpoint.port, context=context)
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - start) * 1000)
        connection.close()
        check(response.status == 200, response.status)
    return statistics.median(times)


def main(bin_dir, runs, out):
    report = {}
    with Stack(bin_dir, tls=True) as stack:
        report["_endpoint"] = {"tls_getitem_ms": moto_floor(stack, runs)}
        print(f"moto: a new TLS connection and one GetItem {report['_endpoint']['tls_getitem_ms']:.1f} ms")
        buyers = [customer(stack, 1), customer(stack, 2)]
        for function in lambda_rig.DEFAULT_EVENTS:
            results = []
            for _ in range(runs):
                events = events_for(function, stack, buyers)
                results.append(lambda_rig.run(f"{bin_dir}/{function}", events, stack.env))
            statuses = sorted({str(lambda_rig.status_of(a)) for r in results for a in r["answers"]})
            report[function] = {
                "runs": runs,
                "event": {"orders": "orders-create", "order-emails": "a status change (SES send)",
                          "outbox-relay": "schedule (empty outbox)",
                          "payment-jobs": "schedule (payments off)"}
                .get(function, lambda_rig.DEFAULT_EVENTS[function]),
                "init_ms": summary([r["init_ms"] for r in results]),
                "init_cpu_ms": summary([r["init_cpu_ms"] for r in results]),
                "first_ms": summary([r["event_ms"][0] for r in results]),
                "warm_ms": summary([r["event_ms"][1] for r in results]),
                "peak_rss_kib": summary([r["peak_rss_kib"] for r in results]),
                "statuses": statuses,
                "answer": results[-1]["answers"][0] if function in ("order-emails", "outbox-relay") else None,
            }
            line = report[function]
            print(f"{function:<13} init {line['init_ms']['median']:6.1f} ms (p90 {line['init_ms']['p90']:6.1f}, "
                  f"CPU {line['init_cpu_ms']['median']:5.1f})"
                  f"  first {line['first_ms']['median']:6.1f} ms  warm {line['warm_ms']['median']:6.1f} ms"
                  f"  rss {line['peak_rss_kib']['median'] / 1024:5.1f} MiB  {statuses}", flush=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
