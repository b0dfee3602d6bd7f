"""The bulk change page (selectors, operation, preview with the guard's verdicts, confirm), change history
with undo. A form's fields describe the request; the preview shows its ``preview_id`` and the confirm form
sends the same fields back with it: apply previews again and refuses when the ids differ (the data moved).
Previews read only (GET, any role); applying is for operators, forcing past the price guard for admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import UserError
from listing_sync.syncer.services import changes
from listing_sync.syncer.services.changes import ChangePreview, ChangeRequest
from listing_sync.syncer.services.users import Role
from listing_sync.syncer.tabular import InputRejected
from listing_sync.syncer.web.console.render import message_page, page, scheduler_for, translator
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from starlette.concurrency import run_in_threadpool

router = APIRouter()

#: operations of the bulk change form (value -> message id)
OPERATIONS = {
    "price_adjust": "Adjust price by percent",
    "price_amount": "Adjust price by amount",
    "price_set": "Set price",
    "stock_set": "Set stock",
    "stock_adjust": "Adjust stock by",
    "publish": "Publish",
    "delist": "Delist",
    "relist": "Relist",
}
#: the form fields that describe a request (sent back with the preview id to apply it)
FIELDS = ("op", "sku", "category", "tag", "channel", "value", "warehouse", "change_set")


class FormProblems(UserError):
    """The form cannot make a request; every problem is listed."""


@dataclass(frozen=True, slots=True)
class ChangeForm:
    """The fields of a bulk change form as sent (strings, stripped)."""

    values: dict[str, str]

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ChangeForm:
        return cls({name: str(params.get(name) or "").strip() for name in FIELDS})

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})

    def selection(self) -> Selection:
        patterns = [p for p in self.get("sku").replace(",", " ").split() if p]
        categories = [self.get("category")] if self.get("category") else []
        tags = [self.get("tag")] if self.get("tag") else []
        return Selection(patterns=patterns, categories=categories, tags=tags)

    def request(self) -> ChangeRequest:
        """The change request, or :class:`FormProblems` naming every field that is wrong."""
        op, problems = self.get("op"), list[str]()
        if op == "undo":
            number = _integer(self.get("change_set"), "change set", problems)
            if problems or number is None:
                raise FormProblems("; ".join(problems))
            return changes.UndoChangeSet(number)
        if op not in OPERATIONS:
            raise FormProblems(f"operation {op!r}: choose one of {', '.join(OPERATIONS)}")
        selection = self.selection()
        if selection.empty:
            problems.append("select SKUs: a SKU pattern (e.g. TEA-* or * for all), a category or a tag")
        channel = self.get("channel") or None
        request: ChangeRequest | None = None
        if op in ("publish", "delist", "relist"):
            request = changes.ListingsChange(changes.ListingAction(op), selection, (channel,) if channel else ())
        elif op.startswith("price"):
            amount = _decimal(self.get("value"), "percent" if op == "price_adjust" else "amount", problems)
            if amount is not None and op == "price_adjust":
                request = changes.PriceAdjust(selection, percent=amount, channel=channel)
            elif amount is not None and op == "price_amount":
                request = changes.PriceAdjust(selection, amount=amount, channel=channel)
            elif amount is not None:
                request = changes.PriceSet(selection, amount, channel=channel)
        else:
            warehouse = self.get("warehouse")
            if not warehouse:
                problems.append("warehouse: give the warehouse code (e.g. SH)")
            number = _integer(self.get("value"), "quantity", problems)
            if number is not None and warehouse:
                request = (
                    changes.StockSet(selection, warehouse, number)
                    if op == "stock_set"
                    else changes.StockAdjust(selection, warehouse, number)
                )
        if problems or request is None:
            raise FormProblems("; ".join(problems))
        return request


def _decimal(text: str, name: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        problems.append(f"{name} {text!r}: give a number, e.g. 5 or -2.5")
        return None
    if not value.is_finite():
        problems.append(f"{name} {text!r}: give a finite number")
        return None
    return value


def _integer(text: str, name: str, problems: list[str]) -> int | None:
    try:
        return int(text)
    except ValueError:
        problems.append(f"{name} {text!r}: give a whole number, e.g. 10 or -3")
        return None


def verdicts(preview: ChangePreview) -> dict[tuple[str, str], list[str]]:
    """The guard's refusals by (SKU, channel as the preview rows name it: ``(catalog)`` for none)."""
    out: dict[tuple[str, str], list[str]] = {}
    for violation in preview.violations:
        out.setdefault((violation.sku, violation.channel or "(catalog)"), []).append(violation.message)
    return out


def _form_values(context: Any, form: ChangeForm) -> dict[str, Any]:
    from listing_sync.syncer.services import catalog, system

    return {
        "form": form,
        "operations": OPERATIONS,
        "channels": [c.name for c in context.channels],
        "warehouses": [w.code for w in system.list_warehouses(context)],
        "categories": catalog.categories(context),
        "guard": context.settings.price_guard_percent,
    }


@router.get("/changes/new")
def bulk_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    form = ChangeForm.of(request.query_params)
    return page(request, user, "bulk.html", _form_values(context, form), active="bulk")


def _preview(request: Request, form: ChangeForm, context: Any) -> tuple[ChangePreview | None, str | None]:
    """The preview of the form's request, or the message saying why there is none."""
    try:
        return changes.preview_change(context, form.request()), None
    except (UserError, InputRejected) as exc:
        return None, str(exc)


@router.get("/changes/preview")
def preview_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    """The preview table (an htmx fragment under the form, or the whole bulk page)."""
    form = ChangeForm.of(request.query_params)
    preview, error = _preview(request, form, context)
    values = {**_form_values(context, form), "preview": preview, "error": error}
    if preview is not None:
        values["verdicts"] = verdicts(preview)
    template = "_preview.html" if request.headers.get("HX-Request") == "true" else "bulk.html"
    return page(request, user, template, values, active="bulk", status=200 if error is None else 400)


@router.post("/changes/apply")
async def apply_change(request: Request, user: Operator, context: ContextDep) -> Response:
    """Apply the confirmed preview: previewed again, applied only when its id is the one confirmed."""
    data = await request.form()
    form = ChangeForm.of(data)
    preview_id = str(data.get("preview_id") or "")
    force = data.get("force") == "1"
    reason = str(data.get("reason") or "").strip()[:500]
    _ = translator(request)
    if force and not user.role.allows(Role.ADMIN):
        return message_page(request, user, _("Only an admin can force a change past the price guard."), status=403)
    return await run_in_threadpool(_apply, request, user, context, form, preview_id, force, reason)


def _apply(
    request: Request, user: Any, context: Any, form: ChangeForm, preview_id: str, force: bool, reason: str
) -> Response:
    preview, error = _preview(request, form, context)
    if preview is not None:
        try:
            applied = changes.apply_change(
                context,
                preview,
                user=user.name,
                reason=reason,
                command=f"web: {form.query}",
                force=force,
                expected_id=preview_id,
                scheduler=scheduler_for(request),
            )
        except (UserError, InputRejected) as exc:
            error = str(exc)
        else:
            if applied.change_set_id is None:
                error = translator(request)("Nothing to change: every selected value is already what was asked.")
            else:
                return RedirectResponse(f"/changes/{applied.change_set_id}?applied=1", status_code=303)
    values = {**_form_values(context, form), "preview": preview, "error": error}
    if preview is not None:
        values["verdicts"] = verdicts(preview)
    return page(request, user, "bulk.html", values, active="bulk", status=409)


@router.get("/changes")
def history_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    who = request.query_params.get("user") or None
    sets = changes.list_change_sets(context, limit=100, user=who)
    return page(request, user, "history.html", {"sets": sets, "who": who or ""}, active="history")


@router.get("/changes/{number}")
def change_set_page(number: str, request: Request, user: Viewer, context: ContextDep) -> Response:
    if not number.isdigit():
        return message_page(request, user, translator(request)("No change set %(id)s.", id=number), status=404)
    try:
        details = changes.show_change_set(context, int(number))
    except UserError as exc:
        return message_page(request, user, str(exc), status=404)
    values = {"set": details, "applied": request.query_params.get("applied") == "1"}
    return page(request, user, "change_set.html", values, active="history")


@router.get("/changes/{number}/undo")
def undo_preview(number: int, request: Request, user: Viewer, context: ContextDep) -> Response:
    """What undoing a change set restores, with the confirm form (operators)."""
    form = ChangeForm({"op": "undo", "change_set": str(number)})
    preview, error = _preview(request, form, context)
    values = {**_form_values(context, form), "preview": preview, "error": error, "undo_of": number}
    if preview is not None:
        values["verdicts"] = verdicts(preview)
    return page(request, user, "undo.html", values, active="history", status=200 if error is None else 409)
