"""Words the templates translate from data (``_(state)``, ``_(status)``, ...): marked here so that message
extraction finds them (``pybabel extract -k N_``); nothing calls this at run time."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the conventional name of a gettext no-op marker
    return message


WORDS = (
    # listing states, listing and run statuses
    N_("listed"),
    N_("pending"),
    N_("parked"),
    N_("delisted"),
    N_("ok"),
    N_("partial"),
    N_("failed"),
    N_("interrupted"),
    N_("running"),
    N_("applied"),
    N_("undone"),
    # roles
    N_("viewer"),
    N_("operator"),
    N_("admin"),
    # order statuses
    N_("paid"),
    N_("shipped"),
    N_("delivered"),
    N_("cancelled"),
    N_("refunded"),
    N_("returned"),
    # change fields
    N_("base_price"),
    N_("price_override"),
    N_("price"),
    N_("quantity"),
    N_("wanted"),
    # bulk change operations (console.changes.OPERATIONS) and grid columns
    N_("Adjust price by percent"),
    N_("Adjust price by amount"),
    N_("Set price"),
    N_("Set stock"),
    N_("Adjust stock by"),
    N_("Publish"),
    N_("Delist"),
    N_("Relist"),
    N_("Price"),
    # report periods
    N_("today"),
    N_("yesterday"),
    N_("last-7-days"),
    N_("this-week"),
    N_("last-week"),
    N_("this-month"),
    N_("last-month"),
    N_("this-quarter"),
    N_("last-quarter"),
    N_("this-year"),
    N_("last-year"),
)
