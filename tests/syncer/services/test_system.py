"""Set-up services: init, database revision, warehouses, channels (without credentials)."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.settings import Settings
from listing_sync.syncer.context import Context, UserError
from listing_sync.syncer.services import system
from listing_sync.syncer.services.common import InvalidRequest


def test_initialize_writes_the_example_channels_file_once(tmp_path: Path) -> None:
    context = Context(settings=Settings(_env_file=None, data_dir=tmp_path / "data"))
    with pytest.raises(UserError, match="syncer init"):  # no database yet
        system.list_warehouses(context)
    first = system.initialize(context)
    assert first.wrote_channels_file and first.channels_file.read_text(encoding="utf-8") == (
        system.EXAMPLE_CHANNELS.read_text(encoding="utf-8")
    )
    assert system.database_revision(context) is not None
    assert not system.initialize(context).wrote_channels_file
    codes = [w.code for w in system.list_warehouses(context)]
    assert codes and codes == sorted({w for c in context.channels for w in c.warehouses})  # the channels name them


def test_warehouses_and_channels(world) -> None:
    assert system.add_warehouse(world.context, "GZ", "Guangzhou") == system.WarehouseInfo("GZ", "Guangzhou")
    with pytest.raises(system.AlreadyExists, match="warehouse GZ already exists"):
        system.add_warehouse(world.context, "GZ")
    assert system.list_warehouses(world.context) == [
        system.WarehouseInfo("GZ", "Guangzhou"),
        system.WarehouseInfo("SH", "SH"),
    ]
    listed = system.list_channels(world.context)
    assert [(c.name, c.kind, c.currency, c.warehouses) for c in listed] == [
        ("taobao", "taobao", "CNY", ("SH",)),
        ("shopify", "shopify", "CNY", ("SH",)),
    ]
    assert not any("credential" in field for field in system.ChannelInfo.__dataclass_fields__)
    checked = system.check_channels(world.context)
    assert checked.channels == 2 and checked.path.name == "channels.toml"


def test_a_bad_fault_spec_is_refused_before_serving() -> None:
    with pytest.raises(InvalidRequest, match="--faults.*meltdown"):
        system.serve_emulator("ebay", port=0, faults="meltdown=0.5")
