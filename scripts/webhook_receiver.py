"""A webhook receiver for trying the shop's webhooks on a laptop: prints every delivery and
whether its `Shop-Signature` verifies, answering with the statuses given (then 200).

usage: webhook_receiver.py [--port 9000] [--secret whsec_…] [--fail N]

Register it with the local server (which accepts loopback receivers):
  curl -X POST localhost:3000/admin/webhooks -H "Authorization: Bearer $ADMIN" \\
       -H 'Content-Type: application/json' \\
       -d '{"url":"http://127.0.0.1:9000/hook","events":["order.placed","order.status_changed"]}'
then restart the receiver with the `secret` from the answer to check signatures.
Also used as a module by scripts/local_webhook.py.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import threading
import time

# Deliveries older than this are refused by verify(): a replayed request is detected.
TOLERANCE_SECONDS = 300


def verify(secret, header, body, now=None):
    """Whether `header` (`t=<unix seconds>,v1=<hex>`) signs `body` with `secret`, recently."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts:
        return False
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    fresh = abs((now or time.time()) - int(parts["t"])) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


class Receiver:
    """A receiver on 127.0.0.1 in a background thread; `received` holds (headers, body)."""

    def __init__(self, port=0, answers=()):
        self.received, self.answers = [], list(answers)
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((self.headers, body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.1)
        with self.lock:
            return list(self.received)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", help="the webhook's secret, to verify signatures")
    parser.add_argument("--fail", type=int, default=0, help="answer 500 to the first N requests")
    args = parser.parse_args()
    receiver = Receiver(args.port, [500] * args.fail)
    print(f"listening on {receiver.url}", flush=True)
    seen = 0
    while True:
        received = receiver.wait_for(seen + 1, 3600)
        for headers, body in received[seen:]:
            event = json.loads(body)
            signed = "not checked (no --secret)"
            if args.secret:
                signed = "valid" if verify(args.secret, headers.get("Shop-Signature", ""), body) else "INVALID"
            print(f"{event['type']} {headers.get('Shop-Event-Id')} order {event['data']['order']['id']}: signature {signed}", flush=True)
        seen = len(received)


if __name__ == "__main__":
    main()
