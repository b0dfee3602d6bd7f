"""`syncer emulator serve` serves a marketplace emulator on loopback for multi-process runs."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx
import pytest


def test_serve_answers_on_loopback_with_the_real_envelope() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from listing_sync.syncer.cli import main; main()",
            "emulator",
            "serve",
            "woocommerce",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}/wp-json/wc/v3/products"
        for _ in range(50):
            try:
                response = httpx.get(url, timeout=2)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.status_code == 401  # no credentials: WooCommerce's own refusal
        assert response.json()["code"].startswith("woocommerce_rest")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_bad_fault_spec_is_a_clear_error() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from listing_sync.syncer.cli import main; main()",
            "emulator",
            "serve",
            "ebay",
            "--faults",
            "meltdown=0.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "--faults" in result.stderr and "meltdown" in result.stderr and "Traceback" not in result.stderr


CHANNELS = """
[[channels]]
name = "webshop"
kind = "woocommerce"
currency = "USD"
warehouses = ["SH"]
base_url = "http://127.0.0.1:1"
[channels.credentials]
consumer_key = "TEST_WOO_KEY"
consumer_secret = "TEST_WOO_SECRET"
[channels.options]
site = "http://127.0.0.1:1"
"""


def serve(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, str]:
    """Start `syncer emulator serve ARGS --port 0`; (process, base URL, the ready line)."""
    import os

    process = subprocess.Popen(
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", "emulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    line += process.stdout.readline() if match else ""  # the credentials it accepts
    if not match:
        process.terminate()
        raise AssertionError(line + process.stdout.read())
    return process, f"http://127.0.0.1:{match.group(1)}", line


def test_serve_with_a_channels_credentials_lets_the_projects_adapter_in(tmp_path) -> None:
    from listing_sync.adapters.base import ListingDraft, Money
    from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter
    from listing_sync.config.channels import load_channels

    channels = tmp_path / "channels.toml"
    channels.write_text(CHANNELS, encoding="utf-8")
    env = {"SYNCER_CHANNELS_FILE": str(channels), "SYNCER_DATA_DIR": str(tmp_path / "data")}
    env |= {"TEST_WOO_KEY": "ck_served", "TEST_WOO_SECRET": "cs_served"}
    process, base, line = serve(["--channel", "webshop", "--port", "0"], env)
    try:
        assert "credentials from channel webshop: consumer_key, consumer_secret" in line
        assert "cs_served" not in line
        [config] = load_channels(channels, env=env)
        config = config.model_copy(update={"options": {"site": base}, "base_url": base})
        adapter = WooCommerceAdapter(config)  # OAuth 1.0a over http, like any real http shop
        draft = ListingDraft("MUG-1", "Mug", "Stoneware", "12", Money.of("9.90", "USD"), 4)
        [published] = adapter.publish([draft])
        assert published.ok, published.message
        assert [listing.sku for listing in adapter.listings()] == ["MUG-1"]
        adapter.close()
        wrong = httpx.get(f"{base}/wp-json/wc/v3/products", auth=("ck_served", "cs_wrong"), timeout=5)
        assert wrong.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_with_credential_flags_lets_the_official_client_in() -> None:
    import pytest

    woocommerce = pytest.importorskip("woocommerce")
    process, base, line = serve(
        [
            "woocommerce",
            "--credential",
            "consumer_key=ck_flag",
            "--credential",
            "consumer_secret=cs_flag",
            "--port",
            "0",
        ]
    )
    try:
        assert "credentials: consumer_key, consumer_secret" in line
        client = woocommerce.API(url=base, consumer_key="ck_flag", consumer_secret="cs_flag", timeout=5)
        assert client.get("products").status_code == 200
        stranger = woocommerce.API(url=base, consumer_key="ck_flag", consumer_secret="cs_other", timeout=5)
        assert stranger.get("products").json()["code"] == "woocommerce_rest_authentication_error"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_refuses_a_kind_that_contradicts_the_channel(tmp_path) -> None:
    channels = tmp_path / "channels.toml"
    channels.write_text(CHANNELS, encoding="utf-8")
    env = {"SYNCER_CHANNELS_FILE": str(channels), "TEST_WOO_KEY": "k", "TEST_WOO_SECRET": "s"}
    import os

    result = subprocess.run(
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", "emulator", "serve", "ebay"]
        + ["--channel", "webshop"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert result.returncode == 1
    assert "woocommerce channel, not ebay" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_and_saves_its_state_on_sigterm_and_on_sigint_even_when_started_ignoring_it(
    tmp_path, stop: signal.Signals
) -> None:
    """A background job of a non-interactive shell starts with SIGINT ignored (the reliability suite's
    harness, run with `&`, waited 20 s for emulators that never stopped); a service manager sends SIGTERM."""
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", "emulator", "serve"]
        + ["woocommerce", "--port", "0", "--state", str(state), "--orders-every", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert "listening on" in process.stdout.readline()
        state.unlink(missing_ok=True)
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0
        assert state.exists()  # saved on the way out
    finally:
        if process.poll() is None:
            process.kill()
