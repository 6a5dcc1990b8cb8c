"""The README's payment walk-through against the running --demo server: a new customer's
order is paid with Stripe's test card `pm_card_visa` (confirmed with Stripe's official Python
client, as Stripe.js would in a browser), the provider's signed event marks it paid, the
customer gets the "payment received" e-mail; an admin's partial refund is recorded and
e-mailed too.

usage: demo_payment.py API_URL ADMIN_EMAIL ADMIN_PASSWORD OUTBOX_DIR
"""

import email
import email.policy
import pathlib
import sys
import time

import stripe

from local_order_email import call, login, place_order


def check(condition, message):
    if not condition:
        raise SystemExit(f"demo payment: {message}")


def wait_for(what, probe, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"demo payment: {what} within {seconds} s")


def read_mail(path):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return message["Subject"], text


def main():
    api, admin_email, admin_password, outbox = sys.argv[1:]
    outbox = pathlib.Path(outbox)
    admin = login(api, admin_email, admin_password)
    customer, order = place_order(api, admin, "Walk-through Lamp", "31.50", "PAY")
    token = login(api, customer, "a-good-password")
    oid = order["id"]
    check(order.get("payment", {}).get("status") == "requires_payment", f"a new order: {order}")

    status, paying = call(api, "POST", f"/orders/{oid}/pay", {}, token)
    check(status == 200 and paying["amount"] == "63.00", f"pay: {status} {paying}")
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": f"{api}/provider/stripe"},
                                 max_network_retries=0)
    confirmed = client.v1.payment_intents.confirm(
        paying["payment_intent_id"], params={"payment_method": "pm_card_visa"})
    check(confirmed.status == "succeeded", f"confirmed: {confirmed.status}")

    def paid():
        _, read = call(api, "GET", f"/orders/{oid}", None, token)
        return read["order"] if read["order"]["payment"]["status"] == "captured" else None
    paid_order = wait_for("the order paid", paid)
    check(paid_order["payment"]["captured"] == 6300, f"captured: {paid_order['payment']}")
    receipt = wait_for("the payment e-mail", lambda: next(outbox.glob(f"{oid}-paid.eml"), None))
    subject, text = read_mail(receipt)
    check("Payment received" in subject and "€63.00" in text, f"{subject!r}: {text}")

    status, refund = call(api, "POST", f"/orders/{oid}/refunds",
                          {"amount": "10.00", "reason": "walk-through"}, admin)
    check(status == 201 and refund["refund"]["status"] == "succeeded", f"refund: {status} {refund}")
    check(refund["order"]["payment"]["status"] == "partially_refunded", f"{refund['order']['payment']}")
    refunded = wait_for("the refund e-mail", lambda: next(outbox.glob(f"{oid}-refunded-*.eml"), None))
    subject, text = read_mail(refunded)
    check("refund" in subject.lower() and "€10.00" in text, f"{subject!r}: {text}")
    _, ledger = call(api, "GET", f"/orders/{oid}/payments", None, token)
    kinds = [entry["kind"] for entry in ledger["ledger"]]
    check("intent" in kinds and "refund" in kinds and "event" in kinds, f"ledger: {kinds}")
    print(f"demo payment: order {oid} paid with pm_card_visa, e-mailed ({receipt.name}), "
          f"refunded €10.00 ({refunded.name}); ledger {len(kinds)} entries")


if __name__ == "__main__":
    main()
