"""The migration history is one straight line: one head, every parent known, ids unique.

Two branches that each add a revision on the same parent leave two heads, and ``syncer db upgrade`` then
refuses to run ("Multiple head revisions"). This catches it before it lands.
"""

from alembic.script import ScriptDirectory
from listing_sync.syncer import db


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://"))


def test_one_head() -> None:
    heads = _scripts().get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads {sorted(heads)}: re-point one down_revision"


def test_a_straight_line_from_base_to_head() -> None:
    scripts = _scripts()
    revisions = list(scripts.walk_revisions())  # head first; raises on an unknown down_revision
    assert len({r.revision for r in revisions}) == len(revisions)
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision, f"{newer.revision} does not follow {older.revision}"
