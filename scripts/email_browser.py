"""Renders the newest order e-mail of an outbox folder in headless Chromium, as a mail client
would show its HTML part, and checks what a customer sees: the shop's name, the amounts in
its currency, a readable date, the link to the order, a layout no wider than 600 px. Checks
the plain-text part says the same. Saves a screenshot for a human to look at.

    python email_browser.py OUTBOX_DIR SHOP_NAME SYMBOL SCREENSHOT.png

Uses Debian's chromium and chromedriver, as scripts/explorer_browser.py does.
"""

import email
import email.policy
import pathlib
import re
import sys
import tempfile

from selenium.webdriver.common.by import By

from explorer_browser import browser


def fail(message):
    sys.exit(f"e-mail in a browser: FAILED: {message}")


# What each kind of e-mail must say besides the order, in both parts.
SAYS = {"placed": "We have received it", "paid": "We have received your payment of {symbol}"}


def main(outbox, shop_name, symbol, screenshot, kind="placed"):
    files = sorted(pathlib.Path(outbox).glob(f"*-{kind}.eml"), key=lambda p: p.stat().st_mtime)
    if not files:
        fail(f"no order e-mail in {outbox}")
    message = email.message_from_bytes(files[-1].read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    order = re.search(r"Order: (\w+)", text)
    if not order:
        fail(f"no order id in the text part:\n{text}")
    readable_date = re.compile(r"\d{1,2} (January|February|March|April|May|June|July|August|"
                               r"September|October|November|December) \d{4}, \d\d:\d\d UTC")
    says = SAYS[kind].format(symbol=symbol)
    for what, found in [("the shop's name", text.startswith(shop_name)),
                        (f"{says!r}", says in text),
                        ("a readable date", readable_date.search(text)),
                        (f"amounts in {symbol}", f"To pay: {symbol}" in text),
                        ("the order's link", "View your order: " in text and order[1] in text)]:
        if not found:
            fail(f"the text part lacks {what}:\n{text}")
    with tempfile.TemporaryDirectory() as work:
        page = pathlib.Path(work) / "email.html"
        page.write_text(html, encoding="utf-8")
        driver = browser(pathlib.Path(work) / "profile")
        try:
            driver.set_window_size(900, 1200)
            driver.get(page.as_uri())
            shown = driver.find_element(By.TAG_NAME, "body").text
            links = [a.get_attribute("href") for a in driver.find_elements(By.TAG_NAME, "a")]
            card = driver.find_element(By.CSS_SELECTOR, "table[width='600']")
            width = card.size["width"]
            driver.save_screenshot(screenshot)
        finally:
            driver.quit()
    for what, found in [("the shop's name", shop_name in shown),
                        (f"{says!r}", says in shown),
                        ("a readable date", readable_date.search(shown)),
                        (f"amounts in {symbol}", f"To pay: {symbol}" in shown),
                        ("a link to the order", any(order[1] in (link or "") for link in links))]:
        if not found:
            fail(f"the rendered e-mail lacks {what}; it shows:\n{shown}")
    if width > 600:
        fail(f"the e-mail is {width} px wide")
    print(f"order e-mail {files[-1].name} rendered in Chromium ({width} px wide): "
          f"{shop_name}, {symbol} amounts, readable date, order link; screenshot {screenshot}")


if __name__ == "__main__":
    main(*sys.argv[1:6])
