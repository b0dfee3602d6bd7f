"""The console in a real browser: Debian's Chromium driven by playwright against the app served by uvicorn
on a free loopback port. One operator's session: log in, filter the listings grid, preview a bulk change,
see the price guard refuse +80%, apply +5%, find it in the history, undo it, download a report.

Skipped (saying so) only when /usr/bin/chromium is absent; `.ci/run` installs it."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))  # appended: nothing else here shadows another module
import browser  # noqa: E402  (this folder's helper, shared with bench/console_screenshots.py)

pytestmark = pytest.mark.skipif(
    not browser.CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian's chromium package; .ci/run installs it)"
)


def _password() -> str:
    """The test users' password, from this folder's conftest (``import conftest`` would find another one)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("web_conftest", Path(__file__).with_name("conftest.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.PASSWORD


@pytest.fixture
def console_url(web_app) -> Iterator[str]:
    with browser.served(web_app) as url:
        yield url


@pytest.fixture
def page(console_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = browser.launch(p)
        context = chromium.new_context(base_url=console_url, accept_downloads=True, locale="en-US")
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        chromium.close()


def test_an_operator_filters_previews_is_refused_applies_undoes_and_downloads(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # a shared CI machine may answer slowly; a wrong page still fails
    # log in (the login page keeps where we were going)
    page.goto("/listings?lang=en")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", _password())
    page.click("button[type=submit]")
    expect(page.locator("#grid-count")).to_contain_text("108 listings")
    # htmx (a deferred script) binds its triggers at DOMContentLoaded: typing before that is lost
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")

    # filter the grid: htmx swaps the table and pushes the URL
    page.fill("input[name=sku]", "TEA-*")
    expect(page.locator("#grid-count")).to_contain_text("18 listings")
    expect(page).to_have_url(re.compile(r"sku=TEA-"))
    skus = page.locator("#listings tbody td:first-child").all_inner_texts()
    assert skus and all(s.startswith("TEA-") for s in skus)
    page.select_option("select[name=channel]", "shopify")
    expect(page.locator("#grid-count")).to_contain_text("3 listings")

    # a value that is no number: the message shows under the form
    page.goto("/changes/new")
    page.fill("input[name=sku]", "TEA-PE-357")
    page.fill("input[name=value]", "eighty")
    page.click("#preview-button")
    expect(page.locator("#change-error")).to_contain_text("percent 'eighty'")

    # preview +80% on one SKU: the guard refuses it and an operator cannot apply or force
    page.select_option("select[name=op]", "price_adjust")
    page.fill("input[name=value]", "80")
    page.click("#preview-button")
    expect(page.locator("#guard-refused")).to_contain_text("TEA-PE-357")
    expect(page.locator("#apply-button")).to_be_disabled()
    assert page.locator("input[name=force]").count() == 0

    # +5%: every price allowed, in its currency; apply it
    page.fill("input[name=value]", "5")
    page.click("#preview-button")
    expect(page.locator("#guard-refused")).to_have_count(0)
    expect(page.locator("#preview-table")).to_contain_text("USD")
    expect(page.locator("#preview-table")).to_contain_text("CNY")
    assert page.locator("#preview-table .badge.refused").count() == 0
    page.fill("input[name=reason]", "browser +5%")
    page.click("#apply-button")
    expect(page.locator("#applied")).to_be_visible()
    number = re.search(r"/changes/(\d+)", page.url)
    assert number

    # it is in the history; undo it from there
    page.goto("/changes")
    row = page.locator("#history tbody tr", has_text="browser +5%")
    expect(row).to_contain_text("operator")
    row.locator("a", has_text="Undo").click()
    expect(page.locator("#preview-table")).to_contain_text("TEA-PE-357")
    page.click("#apply-button")
    expect(page.locator("#applied")).to_be_visible()
    page.goto(f"/changes/{number[1]}")
    expect(page.locator("h1 .badge")).to_have_text("undone")

    # download the sales report as CSV
    page.goto("/reports?period=this-month")
    expect(page.locator(".chart svg")).to_be_visible()
    with page.expect_download() as download:
        page.click("#download-csv")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("sales-") and saved.read_bytes().startswith(b"\xef\xbb\xbfgrouping,key,currency")
