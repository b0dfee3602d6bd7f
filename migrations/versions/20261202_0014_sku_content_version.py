"""content version per SKU, kept by the database: the recompute skips unchanged content without reading it

``skus.content_version`` goes up whenever anything a SKU's content hash is computed from changes: the
SKU's own content columns (product, attributes, images, barcode, weight), its product's (title,
description, category, brand), a text of its product or of the SKU (inserted, updated or deleted).
Triggers keep it, so every writer (the import, an ORM edit, a plain UPDATE, COPY on PostgreSQL) moves it
without having to know. ``channel_listings.basis_version`` is the SKU's content version at which the
recompute last verified the listing's content basis: while the two are equal the recompute keeps the
hash and basis without reading the SKU's wide content rows.

SQLite: row triggers (an UPDATE OF the content columns WHEN a value differs). PostgreSQL: a BEFORE UPDATE
row trigger on skus (WHEN a content column differs, so unchanged rows cost one comparison) and statement
triggers with transition tables on products and the text tables (one UPDATE per statement, also for a
COPY). A later migration that rebuilds one of these tables on SQLite (``batch_alter_table`` copies it)
drops its triggers and must create them again (``TRIGGERS`` below); the recompute checks they exist
(``syncer/content_version.py``) and fingerprints every SKU's content when they do not.

Revision ID: 0014_sku_content_version
Revises: 0013_content_basis
Create Date: 2026-12-02 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_sku_content_version"
down_revision = "0013_content_basis"
branch_labels = None
depends_on = None

SKU_COLUMNS = ("product_id", "attributes", "images", "barcode", "weight_grams")
PRODUCT_COLUMNS = ("title", "description", "category", "brand")
TEXT_COLUMNS = {"product_texts": ("product_id", "language", "channel", "title", "description", "bullet_points"),
                "sku_texts": ("sku_id", "language", "attributes")}
BUMP = "UPDATE skus SET content_version = content_version + 1 WHERE"


def _sqlite_triggers() -> list[str]:
    def differ(columns: tuple[str, ...]) -> str:
        return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)

    out = [
        f"CREATE TRIGGER content_version_skus AFTER UPDATE OF {', '.join(SKU_COLUMNS)} ON skus "
        f"WHEN {differ(SKU_COLUMNS)} BEGIN {BUMP} id = NEW.id; END",
        f"CREATE TRIGGER content_version_products AFTER UPDATE OF {', '.join(PRODUCT_COLUMNS)} ON products "
        f"WHEN {differ(PRODUCT_COLUMNS)} BEGIN {BUMP} product_id = NEW.id; END",
    ]
    for table, columns in TEXT_COLUMNS.items():
        key = "product_id" if table == "product_texts" else "id"
        owner = columns[0]
        out += [
            f"CREATE TRIGGER content_version_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN {BUMP} {key} = NEW.{owner}; END",
            f"CREATE TRIGGER content_version_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {BUMP} {key} = OLD.{owner}; END",
            f"CREATE TRIGGER content_version_{table}_update AFTER UPDATE ON {table} WHEN {differ(columns)} "
            f"BEGIN {BUMP} {key} IN (OLD.{owner}, NEW.{owner}); END",
        ]
    return out


def _postgresql_triggers() -> list[str]:
    def differ(columns: tuple[str, ...], old: str = "OLD", new: str = "NEW") -> str:
        # json has no equality operator: compare every column as text
        return " OR ".join(f"{old}.{c}::text IS DISTINCT FROM {new}.{c}::text" for c in columns)

    out = [
        "CREATE FUNCTION content_version_sku() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.content_version := OLD.content_version + 1; RETURN NEW; END $$",
        f"CREATE TRIGGER content_version_skus BEFORE UPDATE ON skus FOR EACH ROW WHEN ({differ(SKU_COLUMNS)}) "
        "EXECUTE FUNCTION content_version_sku()",
        "CREATE FUNCTION content_version_products() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{BUMP} product_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"WHERE {differ(PRODUCT_COLUMNS, 'o', 'n')}); RETURN NULL; END $$",
        "CREATE TRIGGER content_version_products AFTER UPDATE ON products REFERENCING OLD TABLE AS old_rows "
        "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_version_products()",
    ]
    for table, columns in TEXT_COLUMNS.items():
        key = "product_id" if table == "product_texts" else "id"
        owner = columns[0]
        rows = {"insert": "SELECT {owner} FROM new_rows", "delete": "SELECT {owner} FROM old_rows"}
        rows["update"] = (
            "SELECT n.{owner} FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE " + differ(columns, "o", "n")
            + " UNION SELECT o.{owner} FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE "
            + differ(columns, "o", "n")
        )
        for event, select in rows.items():
            name = f"content_version_{table}_{event}"
            transition = {
                "insert": "NEW TABLE AS new_rows",
                "delete": "OLD TABLE AS old_rows",
                "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            }[event]
            out += [
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{BUMP} {key} IN ({select.format(owner=owner)}); RETURN NULL; END $$",
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} REFERENCING {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            ]
    return out


#: the DDL of every trigger, per dialect (a migration rebuilding one of these tables creates them again)
TRIGGERS = {"sqlite": _sqlite_triggers, "postgresql": _postgresql_triggers}
NAMES = [
    "content_version_skus",
    "content_version_products",
    *(f"content_version_{table}_{event}" for table in TEXT_COLUMNS for event in ("insert", "delete", "update")),
]


def upgrade() -> None:
    # plain ADD COLUMNs on both engines (no table rebuild: millions of rows)
    op.add_column("skus", sa.Column("content_version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("channel_listings", sa.Column("basis_version", sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect in TRIGGERS:
        for statement in TRIGGERS[dialect]():
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in NAMES:
        if dialect == "postgresql":
            table = "skus" if name == "content_version_skus" else name.removeprefix("content_version_")
            table = table.rsplit("_", 1)[0] if table.endswith(("_insert", "_delete", "_update")) else table
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        elif dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS content_version_sku()")
    with op.batch_alter_table("channel_listings") as batch:
        batch.drop_column("basis_version")
    with op.batch_alter_table("skus") as batch:
        batch.drop_column("content_version")
