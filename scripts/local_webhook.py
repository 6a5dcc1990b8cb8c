"""Webhooks end to end against the running local server (the real binary): an admin
subscribes a receiver on loopback that fails the first delivery and accepts the second; a
customer with a shipping address places an order; the receiver must get the same signed event
twice, about WEBHOOK_RETRY_BASE_SECONDS apart, carrying the order and its address; the delivery
log must say delivered after 2 attempts, and the audit trail must name the webhook's creation.

usage: local_webhook.py API_URL ADMIN_EMAIL ADMIN_PASSWORD
"""

import json
import sys
import time

from local_order_email import call, login, place_order
from checks import check
from webhook_receiver import Receiver, verify


def main():
    api, admin_email, admin_password = sys.argv[1:]
    admin = login(api, admin_email, admin_password)
    # Start from no webhooks (earlier checks may have left some, to unreachable receivers, and
    # a shop keeps at most 16).
    _, existing = call(api, "GET", "/admin/webhooks", token=admin)
    for hook in existing["webhooks"]:
        call(api, "DELETE", f"/admin/webhooks/{hook['id']}", token=admin)
    receiver = Receiver(answers=[500])
    status, created = call(api, "POST", "/admin/webhooks",
                           {"url": receiver.url, "events": ["order.placed"]}, admin)
    check(status == 201, (status, created))
    secret, webhook = created["secret"], created["webhook"]["id"]

    _, order = place_order(api, admin, "Webhook mug", "7.25", "WH", address={
        "full_name": "Wanda Hook", "line1": "9 Quay St", "city": "Galway",
        "postal_code": "H91 A2B3", "country": "ie"})
    check(order["shipping_address"]["city"] == "Galway", order)

    received = receiver.wait_for(2, 30)
    if len(received) < 2:
        sys.exit(f"the receiver got {len(received)} requests, expected a failed one and its retry")
    ids = {headers.get("Shop-Event-Id") for headers, _ in received}
    check(len(ids) == 1, ids)
    for headers, body in received:
        check(verify(secret, headers.get("Shop-Signature", ""), body), headers)
        check(not verify("whsec_" + "0" * 64, headers.get("Shop-Signature", ""), body))
        event = json.loads(body)
        check(event["type"] == "order.placed" and event["data"]["order"]["id"] == order["id"], event)
        check(event["data"]["order"]["shipping_address"]["full_name"] == "Wanda Hook", event)
    # The receiver has answered, but the worker records that answer just after: read the log
    # until the delivery leaves `retrying` (bounded), then check what it says.
    delivery, log = None, None
    for _ in range(50):
        _, log = call(api, "GET", f"/admin/webhooks/{webhook}/deliveries", token=admin)
        delivery = (log["deliveries"] or [None])[0]
        if delivery and delivery["state"] not in ("sending", "retrying"):
            break
        time.sleep(0.1)
    check(delivery is not None, log)
    check((delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 2, 200), log)
    _, audit = call(api, "GET", "/admin/audit?action=webhook.created", token=admin)
    check(any(entry["target_id"] == webhook for entry in audit["entries"]), audit)
    call(api, "DELETE", f"/admin/webhooks/{webhook}", token=admin)
    print(f"local webhook: order {order['id']} delivered signed after one failure (2 attempts), "
          f"logged and audited")


if __name__ == "__main__":
    main()
