"""A full order over HTTP against the running local server, then the customer's e-mail read
back from the server's outbox folder: the .eml must be a standards-conformant MIME message
addressed to the customer, with a plain-text and an HTML part naming the order and totals.

usage: local_order_email.py API_URL ADMIN_EMAIL ADMIN_PASSWORD OUTBOX_DIR
"""

import email
import email.policy
import json
import pathlib
import sys
import time
import urllib.request
import uuid
from checks import check


def call(api, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{api}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(request) as response:
        return response.status, json.load(response)


def login(api, email, password):
    """An access token for the account."""
    _, answer = call(api, "POST", "/auth/login", {"email": email, "password": password})
    return answer["tokens"]["access_token"]


def place_order(api, admin, name, price, prefix, address=None):
    """An admin's new product (3 units at `price`) of which a new customer, who first saves
    `address` when one is given, orders 2. Returns the customer's e-mail and the order."""
    suffix = uuid.uuid4().hex[:12]
    _, created = call(api, "POST", "/products/create_product", {
        "name": name, "category": "e2e",
        "variants": [{"sku": f"{prefix}-{suffix}", "stock": 3, "price": price}],
    }, admin)
    customer = f"{prefix.lower()}-{suffix}@shop.test"
    call(api, "POST", "/auth/register", {"email": customer, "password": "a-good-password"})
    token = login(api, customer, "a-good-password")
    if address:
        call(api, "POST", "/account/addresses", address, token)
    call(api, "POST", "/cart/add_item", {"product_id": created["product"]["id"], "quantity": 2}, token)
    status, placed = call(api, "POST", "/orders/create", {}, token)
    check(status == 201, (status, placed))
    return customer, placed["order"]


def main():
    api, admin_email, admin_password, outbox = sys.argv[1:]
    outbox = pathlib.Path(outbox)
    admin = login(api, admin_email, admin_password)
    customer, placed = place_order(api, admin, "Tasse « Café » <fine> & co", "12.50", "EML")
    order = placed["id"]

    path = outbox / f"{order}-placed.eml"
    for _ in range(100):
        if path.exists():
            break
        time.sleep(0.05)
    else:
        sys.exit(f"no e-mail for order {order} in {outbox}")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    check(message["To"] == customer, message["To"])
    check(order in message["Subject"], message["Subject"])
    check(message.get_content_type() == "multipart/alternative", message.get_content_type())
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    check("Tasse « Café » <fine> & co" in text and "To pay: €25.00" in text, text)
    check("Tasse « Café » &lt;fine&gt; &amp; co" in html and "25.00" in html, html)
    print(f"local order {order}: {path.name} to {customer}, text and HTML parts")


if __name__ == "__main__":
    main()
