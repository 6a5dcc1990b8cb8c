"""Drives the local server's API explorer (GET /docs) in headless Chromium, as a person would.

    python explorer_browser.py API_URL ADMIN_EMAIL ADMIN_PASSWORD SCREENSHOT.png

Checks that every operation of the OpenAPI document renders, then uses "Try it out": logs in
with POST /auth/login, pastes the access token into "Authorize", and calls an admin route
(GET /coupons/all), which must answer 200. Saves a screenshot of the page for a human to look
at. Uses Debian's chromium and chromedriver (/usr/bin), started without any network beyond
loopback.
"""

import json
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
METHODS = ("get", "post", "put", "patch", "delete")


def fail(message):
    print(f"explorer: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,2400",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def operation(driver, method, path):
    """The operation's block, expanded, with "Try it out" switched on."""
    xpath = (
        f"//div[contains(@class,'opblock-{method}')]"
        f"[.//*[contains(@class,'opblock-summary-path')][@data-path='{path}']]"
    )
    block = driver.find_element(By.XPATH, xpath)
    if "is-open" not in block.get_attribute("class"):
        block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(block, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".try-out__btn")
    )[0].click()
    return block


def execute(block):
    """Clicks Execute; returns (status, body text) of the live response."""
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    cell = ".live-responses-table .response .response-col_status"
    try:
        status = WebDriverWait(block, 15).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, cell)
            and b.find_element(By.CSS_SELECTOR, cell).text.strip()
        )
    except TimeoutException:
        fail("no response appeared after Execute")
    body = block.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"
    ).text
    return int(status.split()[0]), body


def main():
    api, email, password, screenshot = sys.argv[1:5]
    document = json.load(urllib.request.urlopen(f"{api}/docs/openapi.json"))
    operations = sum(
        1 for item in document["paths"].values() for m in METHODS if m in item
    )

    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            driver.get(f"{api}/docs")
            try:
                WebDriverWait(driver, 30).until(
                    lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock"))
                    >= operations
                )
            except TimeoutException:
                shown = len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))
                fail(f"{shown} of {operations} operations rendered")
            rendered = len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))
            if rendered != operations:
                fail(f"{rendered} operations rendered, the document has {operations}")
            print(f"explorer: {rendered} operations rendered")

            login = operation(driver, "post", "/auth/login")
            editor = login.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
            editor.send_keys(Keys.CONTROL, "a")
            editor.send_keys(Keys.DELETE)
            editor.send_keys(json.dumps({"email": email, "password": password}))
            status, body = execute(login)
            if status != 200:
                fail(f"POST /auth/login answered {status}: {body}")
            token = json.loads(body)["tokens"]["access_token"]
            print("explorer: logged in through Try it out")

            driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
            dialog = WebDriverWait(driver, 10).until(
                ready.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux"))
            )
            dialog.find_element(By.CSS_SELECTOR, "input").send_keys(token)
            dialog.find_element(By.CSS_SELECTOR, "button.authorize").click()
            dialog.find_element(By.CSS_SELECTOR, "button.btn-done").click()

            coupons = operation(driver, "get", "/coupons/all")
            status, body = execute(coupons)
            if status != 200:
                fail(f"GET /coupons/all (admin) answered {status}: {body}")
            codes = [c["code"] for c in json.loads(body)["coupons"]]
            print(f"explorer: GET /coupons/all as the admin answered 200 with {codes}")
            driver.execute_script("arguments[0].scrollIntoView()", coupons)
            driver.save_screenshot(screenshot)
            print(f"explorer: screenshot {screenshot}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
