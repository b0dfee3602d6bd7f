"""An emulator served on loopback for the duration of a test (official clients talk real HTTP to it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from listing_sync.adapters.emulator import Emulator


@contextmanager
def serving(emulator: Emulator) -> Iterator[str]:
    """Serve ``emulator`` on 127.0.0.1 (any free port); yields its base URL, stops it afterwards."""
    server = emulator.serve("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
