"""The SKU content version the database keeps (migration ``0014_sku_content_version``).

``skus.content_version`` goes up, by triggers, whenever anything a SKU's content hash is computed from
changes: the SKU's content columns (product, attributes, images, barcode, weight), its product's (title,
description, category, brand), or a text of the product or SKU (inserted, updated, deleted). Writers do
nothing: an import, an ORM edit, a plain ``UPDATE`` or a ``COPY`` all move it. ``channel_listings.
basis_version`` records the version at which the recompute last verified the listing's content basis;
while both are equal (and the channel's content configuration is unchanged) the recompute keeps the hash
without reading the SKU's content.

A writer that must not fire triggers (none does today) would bump the version itself:
``UPDATE skus SET content_version = content_version + 1 WHERE ...``.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: the triggers of migration 0014 (a table rebuilt on SQLite loses them: see the migration)
TRIGGERS = frozenset(
    {
        "content_version_skus",
        "content_version_products",
        *(f"content_version_{t}_{e}" for t in ("product_texts", "sku_texts") for e in ("insert", "delete", "update")),
    }
)


def installed(connection: Connection) -> bool:
    """Whether every trigger keeping ``skus.content_version`` exists (if not, versions are not trusted)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'content_version_%'"
    elif connection.dialect.name == "postgresql":
        query = (
            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE tgname LIKE 'content_version_%' AND pg_table_is_visible(c.oid) AND NOT tgisinternal"
        )
    else:
        return False
    return {name for (name,) in connection.execute(text(query))} >= TRIGGERS
