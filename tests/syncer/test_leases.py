"""Leases: one holder at a time, taken over only after expiry, token-checked renew and release, a
heartbeat that keeps a long holder's lease, and runs of dead owners marked interrupted. Every store test
runs on SQLite, PostgreSQL (SYNCER_TEST_DATABASE_URL) and Redis (SYNCER_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from listing_sync.syncer import leases
from listing_sync.syncer.models import Channel, SyncRun
from sqlalchemy import select

REDIS_URL = os.environ.get("SYNCER_TEST_REDIS_URL")
STORES = ["database"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[leases.LeaseStore]:
    if request.param == "database":
        yield leases.DatabaseLeases(db_url)
        return
    if db_url.startswith("postgresql"):
        pytest.skip("the Redis store runs once (with the SQLite database)")
    assert REDIS_URL is not None
    prefix = f"test-leases-{uuid.uuid4().hex[:8]}:"
    redis_store = leases.RedisLeases(REDIS_URL, prefix)
    yield redis_store
    for key in redis_store.client.scan_iter(match=prefix + "*"):
        redis_store.client.delete(key)


def test_one_holder_until_it_expires(store: leases.LeaseStore) -> None:
    assert store.try_acquire("channel:a", "w1", "t1", ttl=0.6)
    assert not store.try_acquire("channel:a", "w2", "t2", ttl=5)
    assert store.try_acquire("channel:b", "w2", "t3", ttl=5)  # another channel is free
    holder = store.holder("channel:a")
    assert holder is not None and holder.owner == "w1" and holder.live()
    time.sleep(0.8)  # w1 died: nobody renewed
    assert store.try_acquire("channel:a", "w2", "t2", ttl=5)
    holder = store.holder("channel:a")
    assert holder is not None and holder.owner == "w2"


def test_renew_and_release_only_with_the_token(store: leases.LeaseStore) -> None:
    assert store.try_acquire("channel:a", "w1", "t1", ttl=0.6)
    assert not store.renew("channel:a", "wrong", ttl=5)
    store.release("channel:a", "wrong")
    assert not store.try_acquire("channel:a", "w2", "t2", ttl=5)
    assert store.renew("channel:a", "t1", ttl=5)
    time.sleep(0.8)  # renewed past the first expiry
    assert not store.try_acquire("channel:a", "w2", "t2", ttl=5)
    store.release("channel:a", "t1")
    assert store.try_acquire("channel:a", "w2", "t2", ttl=5)
    assert not store.renew("channel:a", "t1", ttl=5)  # the old holder can never extend its successor's


def test_only_one_of_many_racing_acquirers_wins(store: leases.LeaseStore) -> None:
    won: list[str] = []
    start = threading.Barrier(8)

    def race(n: int) -> None:
        start.wait()
        if store.try_acquire("channel:race", f"w{n}", f"t{n}", ttl=30):
            won.append(f"w{n}")

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    holder = store.holder("channel:race")
    assert holder is not None and holder.owner == won[0]


def test_hold_is_busy_with_a_readable_message_and_reentrant(store: leases.LeaseStore) -> None:
    with leases.hold(store, "channel:a", ttl=30, owner="host:1:abc") as lease:
        with leases.hold(store, "channel:a", ttl=30) as inner:  # same thread: the same lease
            assert inner is lease
        errors: list[leases.LeaseBusy] = []

        def other() -> None:
            try:
                with leases.hold(store, "channel:a", ttl=30, owner="host:2:def"):
                    pass
            except leases.LeaseBusy as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1
        message = str(errors[0])
        assert message.startswith("channel:a is busy: held by host:1:abc until ")
        assert message.endswith("try again in 30 s") and 25 <= errors[0].retry_after <= 30
        assert errors[0].exit_code == leases.BUSY_EXIT
    with leases.hold(store, "channel:a", ttl=30, owner="host:2:def"):  # released on leaving
        pass


def test_heartbeat_keeps_a_long_holder_and_a_lost_lease_stops_the_work(store: leases.LeaseStore) -> None:
    with leases.hold(store, "channel:a", ttl=0.6) as lease:
        time.sleep(1.5)  # longer than the ttl: the heartbeat renewed it
        assert not store.try_acquire("channel:a", "w2", "t2", ttl=5)
        lease.check()
        leases.check_held()
        store.release("channel:a", lease.token)  # simulate the takeover of a paused holder
        assert store.try_acquire("channel:a", "w2", "t2", ttl=5)
        time.sleep(0.5)
        with pytest.raises(leases.LeaseLost, match="lease lost"):
            leases.check_held()
    holder = store.holder("channel:a")
    assert holder is not None and holder.owner == "w2"  # the lost holder did not release its successor's


def test_all_lists_holders(store: leases.LeaseStore) -> None:
    store.try_acquire("channel:a", "w1", "t1", ttl=30)
    store.try_acquire("channel:b", "w2", "t2", ttl=30)
    store.release("channel:b", "t2")
    live = {info.name: info.owner for info in store.all() if info.live()}
    assert live == {"channel:a": "w1"}


def test_runs_of_dead_owners_are_marked_interrupted(session, db_url: str) -> None:
    store = leases.DatabaseLeases(db_url)
    for name in ("a", "b"):
        session.add(Channel(name=name, kind="shopify", currency="USD"))
    session.flush()
    ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    old = datetime.now(UTC) - timedelta(minutes=5)
    session.add_all(
        [
            SyncRun(channel_id=ids["a"], kind="sync", started_at=old, owner="dead:1:x"),
            SyncRun(channel_id=ids["b"], kind="orders", started_at=old, owner="alive:2:y"),
            SyncRun(channel_id=ids["a"], kind="sync", started_at=old, status="ok"),
        ]
    )
    session.commit()
    assert store.try_acquire("channel:b", "alive:2:y", "t", ttl=60)  # b's owner is working
    assert leases.interrupt_dead_runs(session, store) == 1
    session.commit()
    states = {(run.channel_id, run.status) for run in session.scalars(select(SyncRun))}
    assert states == {(ids["a"], "interrupted"), (ids["b"], "running"), (ids["a"], "ok")}


def test_process_owner_names_host_and_pid() -> None:
    owner = leases.process_owner()
    assert owner == leases.process_owner()
    assert f":{os.getpid()}:" in owner
