"""Screenshots of the web console for README: the demo's data (``syncer demo`` in a scratch directory),
served by uvicorn on a free loopback port, photographed by Debian's Chromium through playwright.

    .venv/bin/python bench/console_screenshots.py [--out docs] [--data DIR]

Writes docs/console-dashboard.png (zh-CN) and console-dashboard-en.png, console-listings.png,
console-listings-tablet.png (820 px wide), console-bulk-preview.png (+5%), console-guard.png (+80% refused
for an operator) and console-reports.png; prints one JSON object naming them. Rerunnable: a new demo each
time unless --data names an existing demo directory."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "syncer" / "web"))

import browser  # noqa: E402  (Chromium and the served app, shared with the browser test)

PASSWORD = "screenshots-only-" + "x" * 8
PREVIEW = "/changes/preview?op=price_adjust&sku=TEA-PE-357"
#: (file, user, path, viewport width, height, full page)
SHOTS = [
    ("console-dashboard.png", "admin", "/?lang=zh-CN", 1280, 860, True),
    ("console-dashboard-en.png", "admin", "/?lang=en", 1280, 860, True),
    ("console-listings.png", "admin", "/listings?lang=zh-CN&category=tea&per_page=25", 1280, 860, False),
    ("console-listings-tablet.png", "admin", "/listings?lang=zh-CN&sku=SILK-*", 820, 1180, False),
    (
        "console-bulk-preview.png",
        "operator",
        f"{PREVIEW}&value=5&lang=zh-CN",
        1280,
        860,
        True,
    ),
    (
        "console-guard.png",
        "operator",
        f"{PREVIEW}&value=80&lang=en",
        1280,
        860,
        True,
    ),
    ("console-reports.png", "admin", "/reports?lang=zh-CN&period=this-month", 1280, 860, True),
]


def demo_context(data: Path):
    """The demo's context in ``data`` (running the demo when it is not there), with an admin and an operator."""
    from listing_sync.config.settings import Settings
    from listing_sync.syncer.context import Context
    from listing_sync.syncer.services import system, users

    if not (data / "syncer.db").exists():
        env = {"SYNCER_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-m", "listing_sync.syncer", "demo"], check=True, env=env, capture_output=True)
    context = Context(settings=Settings(_env_file=None, data_dir=data, web_secret_key="screenshots-" + "k" * 32))
    system.upgrade_database(context)  # a demo made by an older version
    known = {u.name for u in users.list_users(context)}
    for name in ("admin", "operator"):
        if name not in known:
            users.add_user(context, name, name, PASSWORD)
    return context


def shoot(url: str, out: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        chromium = browser.launch(p)
        sessions = {}
        for name, user, path, width, height, full in SHOTS:
            if user not in sessions:
                session = chromium.new_context(base_url=url, viewport={"width": 1280, "height": 860})
                page = session.new_page()
                page.goto("/login")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda u: "/login" not in u)
                sessions[user] = page
            page = sessions[user]
            page.set_viewport_size({"width": width, "height": height})
            page.goto(path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / name), full_page=full)
            written.append(str(out / name))
        chromium.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument("--data", type=Path, help="a demo data directory to reuse (made when missing)")
    args = parser.parse_args()
    from listing_sync.syncer.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="console-shots-") as scratch:
        data = args.data or Path(scratch) / "demo"
        began = time.process_time()
        context = demo_context(data)
        with browser.served(create_app(context)) as url:
            written = shoot(url, args.out)
    print(json.dumps({"screenshots": written, "cpu_s_this_process": round(time.process_time() - began, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
