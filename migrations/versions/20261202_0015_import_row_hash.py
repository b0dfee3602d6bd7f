"""import row hash: what the catalog import last wrote to each SKU and product

``skus.row_hash`` and ``products.row_hash`` hold a digest of the file row the import last applied; a
re-import skips a row whose digest is unchanged without reading or building anything. Any other writer
clears it (triggers below), so a hash is only ever present while the stored row is still what the import
wrote: an UPDATE of a hashed column that does not set the hash itself, or any write to the product's or
SKU's texts, sets it to NULL, and the next import compares that row column by column again.

Revision ID: 0015_import_row_hash
Revises: 0014_sku_content_version
Create Date: 2026-12-02 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_import_row_hash"
down_revision = "0014_sku_content_version"
branch_labels = None
depends_on = None

#: the columns a row hash covers (an UPDATE of any of them that leaves the hash as it was clears it)
HASHED = {
    "skus": (
        "sku",
        "product_id",
        "attributes",
        "images",
        "barcode",
        "weight_grams",
        "cost",
        "base_price",
        "currency",
        "active",
        "lead_time_days",
        "supplier",
    ),
    "products": ("key", "title", "description", "category", "brand", "tags"),
}
#: text table -> (owner table, owner id column)
TEXTS = {"product_texts": ("products", "product_id"), "sku_texts": ("skus", "sku_id")}


def upgrade() -> None:
    for table in HASHED:
        op.add_column(table, sa.Column("row_hash", sa.LargeBinary(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table, columns in HASHED.items():
        op.execute(
            f"CREATE TRIGGER {table}_row_hash_stale AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN OLD.row_hash IS NOT NULL AND NEW.row_hash IS OLD.row_hash "
            f"BEGIN UPDATE {table} SET row_hash = NULL WHERE id = NEW.id; END"
        )
    for texts, (owner, column) in TEXTS.items():
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            clears = " ".join(
                f"UPDATE {owner} SET row_hash = NULL WHERE id = {row}.{column} AND row_hash IS NOT NULL;"
                for row in rows
            )
            op.execute(f"CREATE TRIGGER {texts}_{event.lower()}_row_hash AFTER {event} ON {texts} BEGIN {clears} END")


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION row_hash_stale() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.row_hash := NULL; RETURN NEW; END $$"
    )
    for table, columns in HASHED.items():
        op.execute(
            f"CREATE TRIGGER {table}_row_hash_stale BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN (OLD.row_hash IS NOT NULL AND NEW.row_hash IS NOT DISTINCT FROM OLD.row_hash) "
            f"EXECUTE FUNCTION row_hash_stale()"
        )
    # statement-level, over the transition tables: one UPDATE per statement, not one per text row
    for texts, (owner, column) in TEXTS.items():
        for event, tables in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            function = f"{texts}_{event.lower()}_row_hash"
            ids = " UNION ".join(f"SELECT {column} FROM {t.lower()}_rows" for t in tables)
            op.execute(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"UPDATE {owner} SET row_hash = NULL WHERE id IN ({ids}) AND row_hash IS NOT NULL; "
                f"RETURN NULL; END $$"
            )
            referencing = " ".join(f"{t} TABLE AS {t.lower()}_rows" for t in tables)
            op.execute(
                f"CREATE TRIGGER {function} AFTER {event} ON {texts} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for texts in TEXTS:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {texts}_{event}_row_hash" + (f" ON {texts}" if postgresql else ""))
            if postgresql:
                op.execute(f"DROP FUNCTION IF EXISTS {texts}_{event}_row_hash()")
    for table in HASHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_row_hash_stale" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS row_hash_stale()")
    for table in HASHED:  # a plain DROP COLUMN (SQLite >= 3.35): a table rebuild would drop other triggers
        op.drop_column(table, "row_hash")
