"""Bulk price, stock and listing changes as change sets: selected, planned, previewed, guarded, applied
atomically, attributed and reversible.

1. :func:`select_skus` turns selectors (globs, category, tags, a file of SKUs) into SKU ids.
2. ``plan_*`` turn an operation into :class:`ChangeLine` rows: one catalog value old -> new (base price,
   a channel's price override, on-hand stock in a warehouse, or a listing's wanted state).
3. :func:`preview` computes what every affected CHANNEL will show (old -> new price or quantity, with
   the same :mod:`syncer.rules` functions :func:`syncer.reconcile.compute_desired` uses), how many
   listings change and how many API calls the next sync will make, and what the price guard refuses.
4. :func:`apply_change` checks that the old values are still current, re-checks the guard, then writes
   everything in the caller's transaction as ONE change set: the values, one :class:`ChangeItem` per
   value, stock as ledger movements, and the affected listings' new desired values (dirty, new version).
   A price or stock edit leaves content untouched, so the listings are updated in bulk here instead of
   through the general :func:`reconcile.refresh` (same values, ~10x faster on 50,000 SKUs; a test keeps
   the two in step).
5. :func:`plan_undo` restores a change set's old values as a new change set, refusing where a later
   change set touched the same values.

Modules: :mod:`.model` (change lines, plans, refusals), :mod:`.selection` (with :mod:`.globs`: selectors as
SQL an index serves), :mod:`.plans`,
:mod:`.preview` (channel effects, API calls, price guard), :mod:`.apply`, :mod:`.files` (edit files),
:mod:`.history` (undo, list, show, history).
"""

from listing_sync.syncer.changes.apply import Applied, apply, apply_change, check_current, current_values
from listing_sync.syncer.changes.files import plan_file
from listing_sync.syncer.changes.history import (
    UndoPlan,
    history,
    list_change_sets,
    plan_undo,
    show_change_set,
    stock_level,
)
from listing_sync.syncer.changes.model import (
    ChangeLine,
    ChangePlan,
    ChangeRefused,
    Effect,
    GuardRefused,
    StaleChange,
    Violation,
)
from listing_sync.syncer.changes.plans import plan_price, plan_stock, plan_wanted, skus_not_in_currency
from listing_sync.syncer.changes.preview import limits_counter, preview
from listing_sync.syncer.changes.selection import Selection, read_skus_file, select_skus

__all__ = [
    "Applied",
    "ChangeLine",
    "ChangePlan",
    "ChangeRefused",
    "Effect",
    "GuardRefused",
    "Selection",
    "StaleChange",
    "UndoPlan",
    "Violation",
    "apply",
    "apply_change",
    "check_current",
    "current_values",
    "history",
    "limits_counter",
    "list_change_sets",
    "plan_file",
    "plan_price",
    "plan_stock",
    "plan_undo",
    "plan_wanted",
    "skus_not_in_currency",
    "preview",
    "read_skus_file",
    "select_skus",
    "show_change_set",
    "stock_level",
]
