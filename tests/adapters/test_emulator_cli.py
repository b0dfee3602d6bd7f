"""`syncer emulator serve` serves a marketplace emulator on loopback for multi-process runs."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx


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
