"""Post-deploy smoke test: walks a customer's whole path against a running API and fails at
the first step that does not answer as it should.

usage: smoke.py API_URL
  API_URL: the stack's `ApiUrl` output (e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1)
           or the local server (http://127.0.0.1:3000).
  SMOKE_ADMIN_EMAIL / SMOKE_ADMIN_PASSWORD (optional): an admin, to create the product the
           order buys; without them the first product in stock is bought.

Steps: register a new customer → log in → add a shipping address → list products → add one
to the cart → place the order (with an Idempotency-Key), which must carry the address → read
the order back → find it in the customer's orders; with an admin, the product's creation must
be in the audit trail.
Each step prints its status and time. Nothing is cleaned up: the customer and the order stay
(the e-mail goes to a `@example.com` address, which SES refuses in the sandbox; the order
stands either way).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def request(base, method, path, token=None, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    elapsed = (time.perf_counter() - start) * 1000
    try:
        parsed = json.loads(raw or b"null")
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, parsed, elapsed


def step(base, label, expected, method, path, token=None, body=None, headers=None):
    status, parsed, elapsed = request(base, method, path, token, body, headers)
    ok = status == expected
    print(f"{'ok  ' if ok else 'FAIL'} {status} {elapsed:7.1f} ms  {label}")
    if not ok:
        sys.exit(f"{method} {path}: expected {expected}, got {status}: {parsed}")
    return parsed


def product_to_buy(base):
    admin_email = os.environ.get("SMOKE_ADMIN_EMAIL")
    if admin_email:
        login = {"email": admin_email, "password": os.environ.get("SMOKE_ADMIN_PASSWORD", "")}
        admin = step(base, "admin logs in", 200, "POST", "/auth/login", body=login)
        token = admin["tokens"]["access_token"]
        sku = f"SMOKE-{uuid.uuid4().hex[:8].upper()}"
        body = {"name": "Smoke test mug", "category": "smoke",
                "variants": [{"sku": sku, "stock": 5, "price": "1.00"}]}
        created = step(base, "admin creates a product", 201, "POST", "/products/create_product",
                       token, body)
        product = created["product"]["id"]
        audit = step(base, "admin reads the audit trail", 200, "GET",
                     "/admin/audit?action=product.created&limit=20", token)
        if not any(entry["target_id"] == product for entry in audit.get("entries", [])):
            sys.exit(f"the product's creation is not in the audit trail: {audit}")
        return product, sku
    listed = step(base, "list products (per_page=100)", 200, "GET",
                  "/products/all_products?per_page=100")
    for product in listed.get("products", []):
        for variant in product.get("variants", []):
            if variant.get("stock", 0) > 0:
                return product["id"], variant["sku"]
    sys.exit("no product in stock: set SMOKE_ADMIN_EMAIL/SMOKE_ADMIN_PASSWORD to create one")


def main(base):
    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    password = uuid.uuid4().hex
    account = {"email": email, "password": password}
    step(base, f"register {email}", 201, "POST", "/auth/register", body=account)
    tokens = step(base, "log in", 200, "POST", "/auth/login", body=account)["tokens"]
    token = tokens["access_token"]
    step(base, "protected route", 200, "GET", "/auth/protected", token)
    address = {"full_name": "Smoke Test", "line1": "1 Test Street", "city": "Testville",
               "postal_code": "T35 7ST", "country": "ie"}
    step(base, "add a shipping address", 201, "POST", "/account/addresses", token, address)
    product, sku = product_to_buy(base)
    step(base, "read the product", 200, "GET", f"/products/{product}")
    line = {"product_id": product, "sku": sku, "quantity": 1}
    step(base, "add it to the cart", 200, "POST", "/cart/add_item", token, line)
    cart = step(base, "read the cart", 200, "GET", "/cart/details", token)
    if not cart.get("items"):
        sys.exit(f"the cart is empty after adding: {cart}")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    placed = step(base, "place the order", 201, "POST", "/orders/create", token, {}, key)
    order = placed["order"]["id"]
    if (placed["order"].get("shipping_address") or {}).get("city") != "Testville":
        sys.exit(f"the order does not carry the default address: {placed}")
    replay = step(base, "retry with the same key (same order)", 201, "POST", "/orders/create",
                  token, {}, key)
    if replay["order"]["id"] != order:
        sys.exit("a retried checkout placed a second order")
    read = step(base, "read the order", 200, "GET", f"/orders/{order}", token)
    if read.get("order", {}).get("status") != "Pending":
        sys.exit(f"a new order should be Pending: {read}")
    mine = step(base, "list my orders", 200, "GET", "/orders", token)
    # Order listings read an index that is eventually consistent: allow it a moment.
    for _ in range(10):
        if any(o["id"] == order for o in mine.get("orders", [])):
            break
        time.sleep(0.5)
        mine = step(base, "list my orders again", 200, "GET", "/orders", token)
    else:
        sys.exit("the order is not in the customer's orders")
    print(f"smoke test passed: order {order}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
