"""SKU selection through indexes: a glob's literal prefix as a key range (with what is left checked in SQL
or by fnmatch), tags in SQL, a SKUs file looked up by code; the same answer as fnmatch on every pattern,
metacharacters and case included, on SQLite and PostgreSQL; the grids' filters use the same code."""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.syncer import changes, db
from listing_sync.syncer.changes.globs import SkuFilter, literal_prefix, prefix_end, tokens
from listing_sync.syncer.models import Product, Sku
from sqlalchemy import func, insert, select
from sqlalchemy import text as text_sql

CODES = [
    "TEA-1",
    "TEA-2",
    "TEA-10",
    "tea-3",
    "TEA.4",
    "TEA_5",
    "TEAx5",
    "TEA%6",
    "TEA[7]",
    "TEA*8",
    "TEA?9",
    "TEA-é",
    "TEA\\x",
    "TEAB",
    "TE",
    "TEA",
    "TEA-",
    "茶-1",
    "茶-2",
    "A]B",
    "A-B",
    "Z\U0010ffff",
    "Z\U0010ffffA",
]
PATTERNS = [
    "TEA-*",
    "tea-*",
    "TEA*",
    "TEA-?",
    "TEA-[0-9]*",
    "TEA-[!0-9]",
    "TEA[!-]*",
    "TEA_*",
    "TEA%*",
    "TEA.*",
    "TEA[[]*",
    "TEA[*]8",
    "TEA[?]9",
    "TEA[",
    "TEA[7]",
    "TEA[7]*",
    "TEA\\*",
    "*-1",
    "*[0-9]",
    "茶-*",
    "?-?",
    "A]B",
    "A[]]B",
    "A[!]]B",
    "[A-Z]*",
    "TE",
    "Z\U0010ffff*",
    "NOPE*",
    "*",
]


def _seed(url: str) -> dict[str, int]:
    with db.unit_of_work(url) as s:
        ids = {}
        for i, code in enumerate(CODES):
            product = s.execute(
                insert(Product).returning(Product.id),
                [
                    {
                        "key": f"P{i}",
                        "title": code,
                        "category": "tea" if code.upper().startswith("TEA") else "other",
                        "tags": ["gift", "新品"] if i % 3 == 0 else (["sale"] if i % 3 == 1 else []),
                    }
                ],
            ).scalar_one()
            ids[code] = s.execute(
                insert(Sku).returning(Sku.id),
                [
                    {
                        "sku": code,
                        "product_id": product,
                        "base_price": Decimal("10"),
                        "currency": "CNY",
                        "attributes": {},
                        "images": [],
                    }
                ],
            ).scalar_one()
    return ids


def _expected(patterns: list[str]) -> list[str]:
    return sorted(c for c in CODES if any(fnmatch.fnmatchcase(c, p) for p in patterns))


def test_globs_select_what_fnmatch_matches_metacharacters_and_case_included(db_url: str) -> None:
    ids = _seed(db_url)
    names = {v: k for k, v in ids.items()}
    with db.unit_of_work(db_url) as s:
        for pattern in PATTERNS:
            got = [names[i] for i in changes.select_skus(s, changes.Selection(patterns=[pattern]))]
            assert got == _expected([pattern]), pattern
        both = [names[i] for i in changes.select_skus(s, changes.Selection(patterns=["TEA-?", "茶-*", "TEA["]))]
        assert both == _expected(["TEA-?", "茶-*", "TEA["])


def test_the_sql_conditions_alone_are_exact_where_they_say_so(db_url: str) -> None:
    """What the grids use: the SQL conditions, without the Python check, whenever ``residual`` is None."""
    _seed(db_url)
    with db.unit_of_work(db_url) as s:
        exact = 0
        for pattern in PATTERNS:
            narrowing = SkuFilter.of(s, changes.Selection(patterns=[pattern]))
            found = sorted(s.scalars(select(Sku.sku).where(*narrowing.conditions)))
            if narrowing.residual is None:
                exact += 1
                assert found == _expected([pattern]), pattern
            else:  # a superset the residual check trims
                assert set(found) >= set(_expected([pattern])), pattern
                assert [c for c in found if narrowing.residual(c)] == _expected([pattern]), pattern
        assert exact == sum(tokens(p) is not None for p in PATTERNS) > 20  # only sets of punctuation are left


def test_tags_and_categories_in_sql_and_intersected_with_globs(db_url: str) -> None:
    ids = _seed(db_url)
    names = {v: k for k, v in ids.items()}

    def tagged(*wanted: str) -> list[str]:
        return sorted(c for i, c in enumerate(CODES) if set(wanted) & set(_tags(i)))

    with db.unit_of_work(db_url) as s:

        def pick(**kw) -> list[str]:
            return sorted(names[i] for i in changes.select_skus(s, changes.Selection(**kw)))

        assert pick(tags=["gift"]) == tagged("gift")
        assert pick(tags=["新品"]) == tagged("新品")
        assert pick(tags=["gift", "sale"]) == tagged("gift", "sale")
        assert pick(tags=["nope"]) == []
        assert pick(tags=["gift"], patterns=["TEA-*"]) == sorted(set(tagged("gift")) & set(_expected(["TEA-*"])))
        tea = sorted(c for c in CODES if c.upper().startswith("TEA"))
        assert pick(categories=["tea"], tags=["sale"]) == sorted(set(tea) & set(tagged("sale")))
        narrowing = SkuFilter.of(s, changes.Selection(tags=["gift"]))
        counted = s.scalar(
            select(func.count())
            .select_from(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(*narrowing.conditions)
        )
        assert narrowing.residual is None and counted == len(tagged("gift"))


def _tags(i: int) -> list[str]:
    return ["gift", "新品"] if i % 3 == 0 else (["sale"] if i % 3 == 1 else [])


def test_a_skus_file_is_looked_up_by_code_and_intersected(db_url: str, tmp_path: Path) -> None:
    ids = _seed(db_url)
    names = {v: k for k, v in ids.items()}
    listed = tmp_path / "skus.txt"
    listed.write_text("TEA-2\nTEA-1\n茶-1\nTEA[7]\n", encoding="utf-8")
    with db.unit_of_work(db_url) as s:
        picked = changes.select_skus(s, changes.Selection(skus_file=listed))
        assert [names[i] for i in picked] == sorted(["TEA-2", "TEA-1", "茶-1", "TEA[7]"])
        picked = changes.select_skus(s, changes.Selection(skus_file=listed, patterns=["TEA-*"]))
        assert [names[i] for i in picked] == ["TEA-1", "TEA-2"]


def test_prefix_ranges_and_tokens() -> None:
    assert literal_prefix("TEA-*") == "TEA-" and prefix_end("TEA-") == "TEA."
    assert literal_prefix("A?B*") == "A" and literal_prefix("[ab]*") == "" and literal_prefix("XY") == "XY"
    assert prefix_end("Z\U0010ffff") == "[" and prefix_end("\U0010ffff") is None
    assert prefix_end("a\ud7ff") == "a\ue000"
    assert tokens("A[!0-9]?*") == [("lit", "A"), ("set", "!0-9"), ("one", ""), ("any", "")]
    assert tokens("A[") is None and tokens("A[]]") is None and tokens("A[z-a]") is None


def test_the_catalog_grid_filters_by_glob_and_tag_with_the_same_selection(db_url: str, tmp_path: Path) -> None:
    from listing_sync.config.settings import Settings
    from listing_sync.syncer.context import Context
    from listing_sync.syncer.services.catalog import SkuQuery, query_skus

    grid_context = Context(settings=Settings(_env_file=None, data_dir=tmp_path, database_url=db_url))
    _seed(db_url)
    for pattern in ("TEA-*", "TEA-[0-9]*", "A[]]B", "tea-*"):
        page = query_skus(grid_context, SkuQuery(sku=pattern, per_page=100))
        assert sorted(r.sku for r in page.rows) == _expected([pattern]) and page.total == len(_expected([pattern]))
    page = query_skus(grid_context, SkuQuery(sku="TEA*", tag="gift", per_page=100))
    want = sorted(c for i, c in enumerate(CODES) if "gift" in _tags(i) and fnmatch.fnmatchcase(c, "TEA*"))
    assert sorted(r.sku for r in page.rows) == want


def test_a_database_in_a_language_collation_takes_the_range_in_code_point_order(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under en_US-like collations '-' and '.' do not sort by code point: the range is taken COLLATE "C"."""
    from listing_sync.syncer.changes import globs

    ids = _seed(db_url)
    names = {v: k for k, v in ids.items()}
    monkeypatch.setattr(globs, "_c_collation", lambda session: False)
    with db.unit_of_work(db_url) as s:
        for pattern in ("TEA-*", "茶-*", "TEA-[0-9]*", "TE"):
            got = [names[i] for i in changes.select_skus(s, changes.Selection(patterns=[pattern]))]
            assert got == _expected([pattern]), pattern


def test_postgres_array_literals_round_trip_every_text_and_number(db_url: str) -> None:
    """The apply's bulk writes on PostgreSQL send each column as one array literal."""
    from listing_sync.syncer.changes.apply import _Writer

    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite takes an executemany)")
    texts = ['a"b', "c\\d", "e,f", "{g}", "NULL", None, "", " h ", "茶"]
    rows = [(n, Decimal("12.345678") if n % 2 else None, text) for n, text in enumerate(texts)]
    with db.unit_of_work(db_url) as s:
        writer = _Writer(s)
        s.execute(text_sql("CREATE TEMP TABLE echo (n bigint, amount numeric, value text)"))
        assert (
            writer.arrays("INSERT INTO echo SELECT c0, c1, c2 FROM {values}", ("bigint", "numeric", "text"), rows) == 9
        )
        back = s.execute(text_sql("SELECT n, amount, value FROM echo ORDER BY n")).all()
    assert [tuple(r) for r in back] == rows
