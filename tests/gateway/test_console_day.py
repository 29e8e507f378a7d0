"""The operator console's canteen orders open on the service's day, not the browser's.

At 01:45 in Shanxi a browser whose clock is on UTC is still on the day before; the console used to pick
that day and showed a kitchen no orders. Here the gateway's clock is fixed at 01:45 China time on the
seeded day, headless Chromium (Debian's, driven by Playwright, as in tests/e2e/test_web_pages.py) runs in
the UTC time zone with its clock at the same moment, and the console must show the seeded day and its
orders, both after signing in with the form (/api/auth/login) and after a reload (/api/me).

The gateway app runs alone, served by uvicorn in a thread on a seeded SQLite database (tests/gateway/
offline.py): nothing here needs Rasa.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from services.clock import CHINA_TZ
from services.seed_data import DEMO_PASSWORD
from tests.gateway.offline import offline_settings, seeded_services, served

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = os.environ.get("YINLING_CHROMIUM", "/usr/bin/chromium")
DAY = date.today()  # the day seeded_services seeds menus from
# 01:45 on DAY in Shanxi is 17:45 UTC on the day before
MOMENT = datetime(DAY.year, DAY.month, DAY.day, 1, 45, tzinfo=CHINA_TZ)
CANTEEN = "ct-kangle"  # r-0002's and r-0009's home canteen


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """The gateway whose clock reads 01:45 China time on DAY (and runs on from there), with two orders
    for DAY at 康乐's canteen."""
    started = time.monotonic()

    def clock() -> datetime:
        return (MOMENT + timedelta(seconds=time.monotonic() - started)).astimezone(timezone.utc)

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("YINLING_TODAY", raising=False)  # the clock decides the day here
        with seeded_services(tmp_path_factory.mktemp("console-day"), cheap_hashes=True, clock=clock) as services:
            assert services.today() == DAY and MOMENT.astimezone(timezone.utc).date() == DAY - timedelta(days=1)
            orders = [services.book_meal(rid, DAY, meal, portions, CANTEEN, mode, actor="test",
                                         idempotency_key=uuid.uuid4().hex)
                      for rid, meal, portions, mode in (("r-0002", "lunch", 2, "delivery"),
                                                         ("r-0009", "dinner", 1, "dine_in"))]
            with served(create_app(offline_settings(), services)) as url:
                yield url, orders


@pytest.fixture(scope="module")
def browser(gateway):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set YINLING_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _sign_in(client: httpx.Client, username: str = "op.li") -> dict:
    r = client.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    r.raise_for_status()
    return r.json()


def test_sign_in_and_me_answer_the_services_day(gateway, monkeypatch):
    url, _ = gateway
    with httpx.Client(base_url=url, timeout=10) as client:
        login = _sign_in(client)
        assert login["today"] == DAY.isoformat()
        me = client.get("/api/me", headers={"Authorization": f"Bearer {login['token']}"})
        assert me.status_code == 200 and me.json()["today"] == DAY.isoformat()
        # a pinned demo or test day (YINLING_TODAY, as the actions use) is the service's day too
        monkeypatch.setenv("YINLING_TODAY", "2031-02-03")
        me = client.get("/api/me", headers={"Authorization": f"Bearer {login['token']}"})
        assert me.json()["today"] == "2031-02-03"


@pytest.mark.parametrize("timezone_id", ["UTC", "America/Los_Angeles"])
def test_the_canteen_orders_open_on_the_services_day_in_a_browser_on_another_day(gateway, browser, timezone_id):
    url, orders = gateway
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id=timezone_id, base_url=url)
    errors: list[str] = []
    try:
        context.clock.install(time=MOMENT)  # the browser's clock: the same moment, on its own day
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/console")
        browser_day = page.evaluate("() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1,"
                                    " d.getDate()].map((n) => String(n).padStart(2, '0')).join('-'); }")
        assert browser_day == (DAY - timedelta(days=1)).isoformat()  # the situation of the bug

        page.locator(tid("login-username")).fill("op.li")
        page.locator(tid("login-password")).fill(DEMO_PASSWORD)
        page.locator(tid("login-submit")).click()
        expect(page.locator(tid("account-name"))).to_be_visible()
        for reloaded in (False, True):
            if reloaded:
                page.reload()  # signed in by the cookie: the day comes from /api/me
                expect(page.locator(tid("account-name"))).to_be_visible()
            expect(page.locator(tid("canteen-day"))).to_have_value(DAY.isoformat())
            page.locator(tid("canteen-select")).select_option(CANTEEN)
            rows = page.locator(f'{tid("canteen-orders")} {tid("canteen-order-row")}')
            for order in orders:
                expect(rows.and_(page.locator(f'[data-order-id="{order.id}"]'))).to_have_count(1)
            expect(rows).to_have_count(len(orders))
            expect(page.locator(tid("canteen-summary"))).to_have_text("午饭 共 2 份（送餐 2 份）；晚饭 共 1 份（送餐 0 份）")
            expect(page.locator(tid("canteen-day"))).to_have_value(DAY.isoformat())
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
