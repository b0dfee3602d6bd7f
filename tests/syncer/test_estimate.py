"""The one estimate: the calls a sync plan predicts (``ChannelAdapter.estimate_calls`` per batch) are the
calls the push makes, on every emulated marketplace, for a first publish and for each kind of change."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from listing_sync.syncer import reconcile  # noqa: E402
from listing_sync.syncer.services import sync  # noqa: E402

from bench import calls as bench  # noqa: E402
from bench import minimum, trace  # noqa: E402
from bench.world import world  # noqa: E402


def predicted(context) -> dict[str, int]:
    out = {}
    for channel in context.channels:
        with context.session() as session, context.adapter(channel) as adapter:
            out[channel.name] = sum(reconcile.build_plan(session, channel, adapter).calls().values())
    return out


def pushed(context, before: dict[str, Counter[str]]) -> dict[str, int]:
    """Requests since ``before`` per channel, order pulls and token calls left out."""
    out = {}
    for channel in context.channels:
        counts = context.hub.get(channel).requests.since(before[channel.name])  # the bench's trace.Tally
        out[channel.name] = sum(
            n for name, n in counts.items() if not minimum.is_pull(name) and not trace.is_token(name)
        )
    return out


def test_plans_predict_the_calls_of_every_push():
    with world(12) as context:  # 3 products x 4 variants on the six example channels
        ids = bench._selection(context, 8)
        steps = [
            ("publish", lambda: None),
            ("price", lambda: bench._price(context, ids)),
            ("stock", lambda: bench._stock(context, ids, 1)),
            ("delist", lambda: bench._wanted(context, ids, "delisted")),
            ("relist", lambda: bench._wanted(context, ids, "active")),
        ]
        for name, change in steps:
            change()
            expected = predicted(context)
            before = {c.name: context.hub.get(c).requests.mark() for c in context.channels}
            for channel in context.channels:
                sync.sync_channel(context, channel, user="test")
            assert pushed(context, before) == expected, name
            assert any(expected.values()), name
            if name == "price":  # the bench's change moves the price on every channel, past its rules
                assert all(expected.values()), expected


def test_tokens_expire_on_the_bench_clock():
    """Past a token's life in virtual time the adapters fetch a new one before they send, as the
    emulators (on that clock) expect: no request refused for an expired token and sent again."""
    with world(12) as context:
        for channel in context.channels:
            sync.sync_channel(context, channel, user="test")
        context.vt.sleep(3 * 3600)  # past LWA's 1 h and eBay's 2 h
        bench._price(context, bench._selection(context, 8))
        expected = predicted(context)
        before = {c.name: context.hub.get(c).requests.mark() for c in context.channels}
        for channel in context.channels:
            sync.sync_channel(context, channel, user="test", pull_orders_first=False)
        assert pushed(context, before) == expected
