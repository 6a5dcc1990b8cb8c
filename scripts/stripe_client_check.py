"""Stripe's official Python client (PyPI `stripe`, pinned in requirements-dev.txt) against the
local server's Stripe-compatible provider, unchanged but for its base URL: every call the
shop's adapter makes, with the objects and errors the client expects.

Usage: python scripts/stripe_client_check.py http://127.0.0.1:3000/provider/stripe
(run by scripts/test.sh against the --demo server, which serves the provider).
"""

import http.server
import queue
import sys
import threading
import uuid

import stripe


def check(condition, message):
    if not condition:
        raise SystemExit(f"stripe client check: {message}")


def main(base):
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": base},
                                 max_network_retries=0)
    intents, tag = client.v1.payment_intents, uuid.uuid4().hex[:8]

    # Automatic capture: create under a key (replayed with it), confirm with a test card.
    params = {"amount": 3150, "currency": "eur", "metadata": {"order_id": f"order-{tag}"},
              "payment_method_types": ["card"]}
    created = intents.create(params=params, options={"idempotency_key": f"{tag}-create"})
    check(isinstance(created, stripe.PaymentIntent), f"a PaymentIntent, not {type(created)}")
    check(created.status == "requires_payment_method", f"status {created.status}")
    check(created.client_secret.startswith(f"{created.id}_secret_"), "client_secret")
    check(created.metadata["order_id"] == f"order-{tag}", f"metadata {created.metadata}")
    replayed = intents.create(params=params, options={"idempotency_key": f"{tag}-create"})
    check(replayed.id == created.id, "the same key answers the same intent")
    try:
        intents.create(params={**params, "amount": 1}, options={"idempotency_key": f"{tag}-create"})
        raise SystemExit("stripe client check: a key reused with other parameters was accepted")
    except stripe.IdempotencyError as error:
        check(error.http_status == 400, f"idempotency error status {error.http_status}")
    paid = intents.confirm(created.id, params={"payment_method": "pm_card_visa"})
    check((paid.status, paid.amount_received) == ("succeeded", 3150), f"paid: {paid.status}")

    # Declines are CardErrors carrying the decline code and the intent.
    for method, decline in [("pm_card_chargeDeclined", "generic_decline"),
                            ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds")]:
        try:
            intents.create(params={"amount": 500, "currency": "eur", "confirm": True,
                                   "payment_method": method})
            raise SystemExit(f"stripe client check: {method} was not declined")
        except stripe.CardError as error:
            check((error.http_status, error.code, error.error.decline_code)
                  == (402, "card_declined", decline), f"{method}: {error.code}")
            check(error.error.payment_intent.status == "requires_payment_method", "declined intent")

    # 3-D Secure required: requires_action with a next action.
    action = intents.create(params={"amount": 800, "currency": "eur", "confirm": True,
                                    "payment_method": "pm_card_authenticationRequired"})
    check(action.status == "requires_action" and action.next_action.type == "use_stripe_sdk",
          f"authentication: {action.status}")

    # Manual capture, partial; refunds up to the captured amount.
    held = intents.create(params={"amount": 1000, "currency": "eur", "capture_method": "manual",
                                  "confirm": True, "payment_method": "pm_card_visa"})
    check((held.status, held.amount_capturable) == ("requires_capture", 1000), "held")
    captured = intents.capture(held.id, params={"amount_to_capture": 600})
    check((captured.status, captured.amount_received) == ("succeeded", 600), "captured 600")
    refund = client.v1.refunds.create(params={"payment_intent": held.id, "amount": 200},
                                      options={"idempotency_key": f"{tag}-refund"})
    check(isinstance(refund, stripe.Refund) and refund.status == "succeeded", "refund")
    try:
        client.v1.refunds.create(params={"payment_intent": held.id, "amount": 401})
        raise SystemExit("stripe client check: a refund beyond the captured amount was accepted")
    except stripe.InvalidRequestError as error:
        check(error.code == "amount_too_large", f"refund beyond: {error.code}")

    # Cancellation, and a retrieve that reads the state back.
    open_intent = intents.create(params={"amount": 250, "currency": "eur"})
    canceled = intents.cancel(open_intent.id)
    check(intents.retrieve(open_intent.id).status == canceled.status == "canceled", "canceled")

    # Events, newest first, as the webhook handler will receive them.
    kinds = [event.type for event in client.v1.events.list().data]
    for kind in ["payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.requires_action", "payment_intent.amount_capturable_updated",
                 "charge.refunded", "payment_intent.canceled"]:
        check(kind in kinds, f"no {kind} event in {kinds}")

    # Events reach a webhook endpoint signed so that Stripe's own verification accepts them.
    delivered = queue.Queue()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            delivered.put((body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/stripe"
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": ["payment_intent.succeeded"]})
    check(endpoint.secret.startswith("whsec_"), "the endpoint's signing secret")
    signed = intents.create(params={"amount": 4200, "currency": "eur", "confirm": True,
                                    "payment_method": "pm_card_visa"})
    try:
        payload, header = delivered.get(timeout=10)
    except queue.Empty:
        raise SystemExit("stripe client check: no event reached the webhook endpoint")
    finally:
        server.shutdown()
    event = stripe.Webhook.construct_event(payload, header, endpoint.secret)
    check((event.type, event.data.object.id) == ("payment_intent.succeeded", signed.id),
          f"event {event.type}")
    try:
        stripe.Webhook.construct_event(payload, header, "whsec_wrong")
        raise SystemExit("stripe client check: a wrong secret verified")
    except stripe.SignatureVerificationError:
        pass

    # A wrong key is an AuthenticationError.
    try:
        stripe.StripeClient("sk_live_x", base_addresses={"api": base},
                            max_network_retries=0).v1.payment_intents.retrieve(created.id)
        raise SystemExit("stripe client check: a live key was accepted")
    except stripe.AuthenticationError:
        pass
    print(f"Stripe's Python client {stripe.VERSION} works against {base}: intents, declines, "
          "3-D Secure, manual and partial capture, refunds, cancellation, events, idempotency, "
          "webhook signatures")


if __name__ == "__main__":
    main(sys.argv[1])
