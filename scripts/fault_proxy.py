"""A fault-injecting HTTP proxy for AWS endpoints (moto here): what a production network and a
busy database do to the requests that moto would otherwise always answer.

It forwards every request to the upstream endpoint. A seeded share of the DynamoDB and SES
requests, while faults are on, get one of these instead:

    throttle   answered as the service throttles (DynamoDB 400 ProvisionedThroughputExceeded,
               SES 429 TooManyRequests); not forwarded
    error      answered 500 InternalServerError; not forwarded
    lost       forwarded and applied upstream, then the connection is closed without an
               answer: the caller cannot tell whether its write happened
    lost_500   forwarded and applied upstream, then answered 500 (a database that fails
               after committing)
    delay      forwarded after a pause of 50-400 ms (slow, answered)

Other requests (SQS, moto's own API) always pass. Counts per service, operation and fault, of
the requests made while faults are on, are kept and returned by `counts()`; the control endpoint `GET /__faults` serves them as JSON.

Usable as a module (`FaultProxy(...).start()`, as scripts/fault_soak.py does) or on its own:

    python scripts/fault_proxy.py UPSTREAM_URL PORT [SEED] [RATE]
"""

import http.client
import http.server
import json
import random
import sys
import threading
import time
import urllib.parse

FAULTS = ("throttle", "error", "lost", "lost_500", "delay")

THROTTLE = {
    "dynamodb": (400, {"x-amzn-ErrorType": "ProvisionedThroughputExceededException"},
                 {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                  "message": "The level of configured provisioned throughput for the table was exceeded."}),
    "ses": (429, {"x-amzn-ErrorType": "TooManyRequestsException"},
            {"message": "Too many requests."}),
}
ERROR = {
    "dynamodb": (500, {"x-amzn-ErrorType": "InternalServerError"},
                 {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                  "message": "Internal server error"}),
    "ses": (500, {"x-amzn-ErrorType": "InternalFailure"}, {"message": "Internal failure."}),
}

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
              "te", "trailer", "proxy-authenticate", "proxy-authorization"}


def service_and_operation(method, path, headers):
    """('dynamodb', 'PutItem'), ('ses', 'SendEmail'), or (None, ...) for requests never faulted."""
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB_20120810."):
        return "dynamodb", target.split(".", 1)[1]
    if method == "POST" and path.startswith("/v2/email/outbound-emails"):
        return "ses", "SendEmail"
    return None, target or path.split("?")[0]


class FaultProxy:
    """The proxy. `rate` is the share of faulted requests (throttle, error, lost and lost_500
    in equal parts); `delay_rate` the share of delayed ones, besides."""

    def __init__(self, upstream, seed=1, rate=0.2, delay_rate=0.05, port=0):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.random = random.Random(seed)
        self.rate, self.delay_rate = rate, delay_rate
        self.enabled = False
        self.lock = threading.Lock()
        self._counts = {}
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/__faults":
                    self.answer(200, {"Content-Type": "application/json"},
                                json.dumps(proxy.counts()).encode())
                    return
                self.forward_or_fault()

            do_POST = do_PUT = do_DELETE = do_HEAD = forward_or_fault = lambda self: proxy.handle(self)

            def answer(self, status, headers, body):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def counts(self):
        """{"dynamodb": {"PutItem": {"requests": n, "lost": n, ...}}, "ses": {...}}"""
        with self.lock:
            return json.loads(json.dumps(self._counts))

    def total(self, fault):
        """How many requests got `fault`, over every service and operation."""
        return sum(op.get(fault, 0) for service in self.counts().values() for op in service.values())

    def choose(self, service, operation):
        with self.lock:
            if not self.enabled:
                return None
            counts = self._counts.setdefault(service, {}).setdefault(operation, {"requests": 0})
            counts["requests"] += 1
            draw = self.random.random()
            if draw < self.rate:
                fault = FAULTS[min(int(draw / self.rate * 4), 3)]
            elif draw < self.rate + self.delay_rate:
                fault = "delay"
            else:
                return None
            counts[fault] = counts.get(fault, 0) + 1
            pause = self.random.uniform(0.05, 0.4)
            return fault, pause

    def handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        service, operation = service_and_operation(request.command, request.path, request.headers)
        decision = self.choose(service, operation) if service else None
        fault = decision[0] if decision else None
        if fault in ("throttle", "error"):
            status, headers, payload = (THROTTLE if fault == "throttle" else ERROR)[service]
            content_type = ("application/x-amz-json-1.0" if service == "dynamodb"
                            else "application/json")
            request.answer(status, {"Content-Type": content_type, **headers},
                           json.dumps(payload).encode())
            return
        if fault == "delay":
            time.sleep(decision[1])
        status, headers, payload = self.forward(request, body)
        if fault == "lost":
            # Applied upstream; the caller never hears of it.
            request.close_connection = True
            return
        if fault == "lost_500":
            status, headers, payload = ERROR[service]
            headers = {"Content-Type": "application/x-amz-json-1.0"
                       if service == "dynamodb" else "application/json", **headers}
            payload = json.dumps(payload).encode()
        request.answer(status, headers, payload)

    def forward(self, request, body):
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port,
                                                timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {k: v for k, v in response.getheaders()
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
            return response.status, kept, payload
        finally:
            connection.close()


def main(upstream, port, seed="1", rate="0.2"):
    proxy = FaultProxy(upstream, seed=int(seed), rate=float(rate), port=int(port))
    proxy.enabled = True
    print(f"fault proxy on {proxy.url} -> {upstream}", flush=True)
    proxy.server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:5])
