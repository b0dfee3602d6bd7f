"""`syncer webhooks register CHANNEL --url URL` and `syncer webhooks list` against the emulated channels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from scenario import build
from typer.testing import CliRunner


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    world = build(tmp_path, ["shopify", "taobao"], units=2)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args), catch_exceptions=False)
    get_settings.cache_clear()


def test_register_subscribes_the_order_topics_once_and_list_shows_them(cli) -> None:
    done = cli("webhooks", "register", "shopify", "--url", "http://127.0.0.1:8000/")
    assert done.exit_code == 0, done.output
    assert "shopify: 3 order topic(s) delivered to http://127.0.0.1:8000/webhooks/shopify" in done.output
    assert "orders/create" in done.output and "orders/cancelled" in done.output
    assert cli("webhooks", "register", "shopify", "--url", "http://127.0.0.1:8000/webhooks/shopify").exit_code == 0
    listed = cli("webhooks", "list", "--format", "json")
    rows = json.loads(listed.output)
    shop = [r for r in rows if r["channel"] == "shopify"]
    assert [(r["topic"], r["url"]) for r in shop] == [
        (topic, "http://127.0.0.1:8000/webhooks/shopify")
        for topic in ("orders/create", "orders/updated", "orders/cancelled")
    ]
    assert [r["url"] for r in rows if r["channel"] == "taobao"] == [
        "taobao has no webhook registration (channel taobao)"
    ]


def test_register_refuses_what_is_not_an_address_and_marketplaces_without_webhooks(cli) -> None:
    bad = cli("webhooks", "register", "shopify", "--url", "sync.example.com")
    assert bad.exit_code != 0 and "give the public http(s) address of `syncer serve`" in bad.output
    none = cli("webhooks", "register", "taobao", "--url", "https://sync.example.com")
    assert none.exit_code != 0 and "taobao has no webhook registration" in none.output
    assert "Traceback" not in bad.output + none.output
