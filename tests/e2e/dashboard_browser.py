"""Browser half of tests/e2e/test_dashboard.sh: headless Debian chromium via chromium-driver.

Usage: dashboard_browser.py URL TOKEN SCREENSHOT_DIR CAMPAIGNS_CSV XSS_ID (DRIPR_BIN in the env).
Every wait polls for a condition with a deadline (WebDriverWait); nothing sleeps blindly.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, TOKEN, SHOTS, CSV, XSS_ID = sys.argv[1:6]
DRIPR = os.environ["DRIPR_BIN"]
GHOST = "<img/src=x/onerror=window.__xss=3>"  # a campaign id that does not exist (yet)


def dripr(*args):
    return subprocess.run([DRIPR, *args], check=True, capture_output=True, text=True).stdout


def fail(what):
    raise SystemExit("FAIL: " + what)


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1280,1000"):
    opts.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(30)


def wait(cond, what, timeout=20, every=0.1):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=every,
                             ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: cond())
    except Exception as e:  # noqa: BLE001 - report what was awaited
        shot("failure")
        fail("timed out waiting for: %s (%s)" % (what, type(e).__name__))


def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def text(css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def no_xss():
    v = driver.execute_script("return window.__xss === undefined ? null : window.__xss")
    if v is not None:
        fail("injected script ran (window.__xss=%r) on %s" % (v, driver.current_url))


def count(status):
    els = driver.find_elements(By.CSS_SELECTOR, '[data-count="%s"]' % status)
    return int(els[0].text.replace(",", "")) if els else None


def confirm_dialog(ok=True):
    wait(lambda: driver.find_element(By.ID, "confirm").get_attribute("open") is not None,
         "confirmation dialog")
    driver.find_element(By.CSS_SELECTOR,
                        "#confirm button[value=%s]" % ("ok" if ok else "cancel")).click()


try:
    # 1. Overview: the counts move while 200 campaigns flow through.
    driver.get(URL + "/")
    wait(lambda: count("READY_TO_CREATE_EMAIL") is not None, "overview counts")
    if count("READY_TO_CREATE_EMAIL") != 0:
        fail("campaigns ready before any started")
    dripr("campaign", "import", CSV, "--start")
    seen = set()

    def all_ready():
        seen.add((count("WAITING_FOR_DATA"), count("READY_TO_CREATE_EMAIL")))
        return count("READY_TO_CREATE_EMAIL") == 200
    wait(all_ready, "200 campaigns READY on the overview", timeout=60)
    if not any(0 < r < 200 for _, r in seen if r is not None):
        fail("the overview never showed the campaigns in between: %r" % sorted(seen))
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline"), "chart drawn")
    print("overview: READY counts seen", sorted({r for _, r in seen}))

    # 1b. Per queue the delayed count and the oldest message's age (the embedded bus measures
    # it: never "—"); the reconciler's last pass (the fetcher runs one at start).
    def cell(part, col):
        cells = driver.find_elements(By.CSS_SELECTOR, '#queues-table tr[data-part="%s"] '
                                     '[data-col="%s"]' % (part, col))
        return cells[0].text if cells else None
    wait(lambda: cell("recent_sales", "delayed") == "0", "the delayed column")
    for part in ("local_market_data", "active_listings", "recent_sales"):
        for col in ("oldest", "dlq-oldest"):
            if not cell(part, col) or not cell(part, col)[0].isdigit():
                fail("%s %s shows %r, expected an age" % (part, col, cell(part, col)))
    wait(lambda: "looked at" in text("#reconciler-last"), "the reconciler's last pass")
    print("overview: reconciler", text("#reconciler-last"))

    # 1c. The chart does not start empty: a reload draws the fetcher's own samples (one every
    # 10 s) before this page has polled twice.
    deadline = time.monotonic() + 30
    while len(json.load(urllib.request.urlopen(URL + "/api/history"))["samples"]) < 2:
        if time.monotonic() > deadline:
            fail("/api/history has fewer than 2 samples after 30 s")
        time.sleep(0.2)  # polling the condition above, with its deadline
    driver.refresh()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline"), "chart after a reload")
    drawn = driver.find_element(By.CSS_SELECTOR, "svg.chart").get_attribute("data-server-samples")
    if int(drawn) < 2:
        fail("the reloaded chart drew %s of the server's samples" % drawn)
    wait(lambda: count("READY_TO_CREATE_EMAIL") == 200, "overview after the reload")
    # Rates need two polls of this page (2 s apart).
    wait(lambda: text('[data-rate="done"]')[:1].isdigit(), "the rates after a second poll")
    shot("overview")

    # 2. Campaigns: filter, page, reload, search.
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="/campaigns"]').click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#campaigns-table tbody tr"), "campaigns")
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("READY_TO_CREATE_EMAIL")
    wait(lambda: "status=READY_TO_CREATE_EMAIL" in driver.current_url, "filter in the URL")

    def page_ids():
        rows = driver.find_elements(By.CSS_SELECTOR, "#campaigns-table tbody tr")
        return [r.get_attribute("data-id") for r in rows]
    wait(lambda: len(page_ids()) == 50 and all(i.startswith("dash-") for i in page_ids()),
         "a page of 50 READY campaigns")
    statuses = {e.text for e in driver.find_elements(By.CSS_SELECTOR, "#campaigns-table .status")}
    if statuses != {"READY_TO_CREATE_EMAIL"}:
        fail("filtered table shows %r" % statuses)
    first = page_ids()
    driver.find_element(By.ID, "next-page").click()
    wait(lambda: "after=" in driver.current_url and page_ids() and page_ids()[0] > first[-1],
         "the next page")
    second = page_ids()
    driver.refresh()
    wait(lambda: page_ids() == second, "the same page after a reload")
    shot("campaigns")
    search = driver.find_element(By.ID, "search")
    search.clear()
    search.send_keys("dash-01" + Keys.ENTER)
    wait(lambda: "q=dash-01" in driver.current_url and page_ids() == [
        "dash-%03d" % i for i in range(10, 20)], "search by id prefix")

    # 3. Markup in an id and an address renders as text.
    driver.get(URL + "/campaigns?q=" + "%3Cscript")
    wait(lambda: page_ids() == [XSS_ID], "the markup campaign found by search")
    no_xss()
    driver.find_element(By.CSS_SELECTOR, "#campaigns-table tbody a").click()
    wait(lambda: driver.find_elements(By.ID, "campaign-title"), "campaign page")
    if text("#campaign-title") != "Campaign " + XSS_ID:
        fail("title shows %r" % text("#campaign-title"))
    if "<img src=x" not in text("#campaign-address"):
        fail("address not shown as text: %r" % text("#campaign-address"))
    if driver.find_elements(By.CSS_SELECTOR, "main img, main script"):
        fail("markup from the database became elements")
    no_xss()
    shot("campaign")

    # 4. A dead letter: an event for a campaign that does not exist fails after its retries.
    event = {"event_type": "STATUS_CHANGE", "payload": {
        "campaign_id": GHOST, "zip_code": "02139", "to_status": "WAITING_FOR_DATA",
        "timestamp": "2026-11-29T10:00:00"}}
    dripr("publish", json.dumps(event))
    driver.get(URL + "/dead-letters")

    def ghost_letters_shown():
        return all(driver.find_elements(By.CSS_SELECTOR, '[data-dlq="%s"] [data-message-id]' % q)
                   for q in ("local_market_data", "active_listings", "recent_sales"))

    def ghost_letters():  # one copy per work queue, each after its retries
        # The page renders after its fetch of /api/dead-letters, which ends after the reload:
        # give each reload time to render before reloading again.
        driver.refresh()
        try:
            return WebDriverWait(driver, 3, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: ghost_letters_shown())
        except TimeoutException:
            return False
    wait(ghost_letters, "the dead letters on the page", timeout=45, every=0.5)
    msg = driver.find_element(By.CSS_SELECTOR, '[data-dlq="active_listings"] [data-message-id]')
    mid = msg.get_attribute("data-message-id")
    reason = msg.find_element(By.CSS_SELECTOR, ".reason").text
    if reason != "unknown campaign " + GHOST:
        fail("reason shown: %r" % reason)
    if GHOST not in msg.find_element(By.CSS_SELECTOR, "pre.body").text:
        fail("body not shown as text")
    no_xss()
    # Reading the page again and again does not raise the receive count shown (the consumer's
    # attempts, within DRIPR_MAX_ATTEMPTS).
    received = msg.find_element(By.CSS_SELECTOR, ".received").text
    if not received.endswith(" time(s)") or not 1 <= int(received.split()[0]) <= 4:
        fail("receive count shown: %r" % received)
    for _ in range(2):
        wait(ghost_letters, "the dead letters after a reload", timeout=20, every=0.5)
        again = driver.find_element(By.CSS_SELECTOR, '[data-message-id="%s"] .received' % mid).text
        if again != received:
            fail("receive count went from %r to %r on a reload" % (received, again))
    msg = driver.find_element(By.CSS_SELECTOR, '[data-message-id="%s"]' % mid)
    shot("dead-letters")

    # 5. Without the token the action is refused, and nothing moves.
    msg.find_element(By.CSS_SELECTOR, '[data-action="redrive"]').click()
    confirm_dialog()
    wait(lambda: driver.find_element(By.ID, "token-dialog").get_attribute("open") is not None,
         "the token prompt")
    driver.find_element(By.CSS_SELECTOR, "#token-dialog button[value=cancel]").click()
    wait(lambda: "Refused" in text("#notice"), "the refusal")
    if not driver.find_elements(By.CSS_SELECTOR, '[data-message-id="%s"]' % mid):
        fail("the message moved without the token")

    # 6. With the token the click redrives it; the campaign now exists (DORMANT), so the
    # fetcher acknowledges the event and the DLQ depth on the overview drops.
    dripr("campaign", "create", "--id", GHOST, "--zip", "02139")
    msg = driver.find_element(By.CSS_SELECTOR, '[data-message-id="%s"]' % mid)
    msg.find_element(By.CSS_SELECTOR, '[data-action="redrive"]').click()
    confirm_dialog()
    wait(lambda: driver.find_element(By.ID, "token-dialog").get_attribute("open") is not None,
         "the token prompt")
    driver.find_element(By.ID, "token-input").send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#token-dialog button[value=ok]").click()
    wait(lambda: "redriven" in text("#notice"), "redrive reported")
    wait(lambda: not driver.find_elements(By.CSS_SELECTOR, '[data-message-id="%s"]' % mid),
         "the message gone from the page")
    driver.get(URL + "/")

    def dlq_depth(part):
        cells = driver.find_elements(By.CSS_SELECTOR, '#queues-table tr[data-part="%s"] '
                                     '[data-col="dlq"]' % part)
        return int(cells[0].text) if cells else None
    wait(lambda: dlq_depth("active_listings") == 0, "active_listings DLQ depth 0 on the overview")
    if dlq_depth("recent_sales") != 1:
        fail("recent_sales DLQ depth %r, expected its copy" % dlq_depth("recent_sales"))
    no_xss()

    # 7. Phone width: the overview still renders, nothing overflows the page.
    driver.set_window_size(390, 844)
    wait(lambda: count("READY_TO_CREATE_EMAIL") == 200, "overview at phone width")
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        fail("page wider than a phone screen by %d px" % overflow)
    shot("overview-phone")
    print("PASS dashboard_browser")
finally:
    driver.quit()
