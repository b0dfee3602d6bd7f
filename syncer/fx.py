"""FX rates: 1 unit of ``base`` = ``rate`` units of ``quote`` on a day; lookups use the nearest earlier day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from listing_sync.adapters.money import UnknownCurrency, parse_decimal, require_currency
from listing_sync.syncer import limits
from listing_sync.syncer.models import FxRate
from listing_sync.syncer.tabular import InputRejected, Problem, read_table
from sqlalchemy import select
from sqlalchemy.orm import Session


class MissingRate(LookupError):
    """No rate for a currency pair on or before a day."""

    def __init__(self, base: str, quote: str, day: date):
        self.base, self.quote, self.day = base, quote, day
        super().__init__(
            f"no FX rate {base}->{quote} on or before {day.isoformat()}: add one with "
            f"`syncer fx set {base} {quote} RATE --date {day.isoformat()}`"
        )


def set_rate(session: Session, base: str, quote: str, rate: Decimal, day: date, source: str = "manual") -> bool:
    """Insert or replace one rate (``source``: where it came from: manual, ECB, a file name); returns True
    when it changed anything."""
    require_currency(base), require_currency(quote)
    if base == quote:
        raise ValueError("base and quote currency are the same")
    problem = limits.rate_problem(rate)
    if problem:
        raise ValueError(problem)
    row = session.scalar(select(FxRate).where(FxRate.base == base, FxRate.quote == quote, FxRate.day == day))
    if row is None:
        session.add(FxRate(base=base, quote=quote, day=day, rate=rate, source=source[:40]))
        return True
    if row.rate == rate:
        return False
    row.rate, row.source = rate, source[:40]
    return True


def rate(session: Session, base: str, quote: str, day: date) -> Decimal:
    """The rate base->quote on ``day`` or the nearest earlier day; the inverse pair is used if only it exists."""
    if base == quote:
        return Decimal(1)
    direct = session.scalar(
        select(FxRate.rate)
        .where(FxRate.base == base, FxRate.quote == quote, FxRate.day <= day)
        .order_by(FxRate.day.desc())
        .limit(1)
    )
    if direct is not None:
        return direct
    inverse = session.scalar(
        select(FxRate.rate)
        .where(FxRate.base == quote, FxRate.quote == base, FxRate.day <= day)
        .order_by(FxRate.day.desc())
        .limit(1)
    )
    if inverse is not None:
        return (Decimal(1) / inverse).quantize(Decimal("0.000001"))
    raise MissingRate(base, quote, day)


# ------------------------------------------------------------------------------------- bulk use
RATE_COLUMNS = ("date", "base", "quote", "rate")


def read_rate_file(path: str | Path) -> list[tuple[date, str, str, Decimal]]:
    """Read a CSV/XLSX of rates (columns date, base, quote, rate; any order, more columns ignored).

    The whole file is checked first: every bad row and column is reported in one ``InputRejected`` and
    nothing is returned (so nothing is applied)."""
    path = Path(path)
    if not path.is_file():
        raise InputRejected(str(path), [Problem(0, "", "file not found")])
    header, rows = read_table(path)
    names = [h.strip().lower() for h in header]
    missing = [c for c in RATE_COLUMNS if c not in names]
    if missing:
        raise InputRejected(str(path), [Problem(1, c, "required column is missing") for c in missing])
    index = {c: names.index(c) for c in RATE_COLUMNS}
    problems: list[Problem] = []
    parsed: list[tuple[date, str, str, Decimal]] = []
    seen: dict[tuple[date, str, str], int] = {}
    for number, cells in rows:
        row = _rate_row(number, {c: cells[i].strip() if i < len(cells) else "" for c, i in index.items()}, problems)
        if row is None:
            continue
        day, base, quote, _ = row
        if (day, base, quote) in seen:
            problems.append(
                Problem(number, "date", f"duplicate of row {seen[day, base, quote]} ({base}->{quote} on {day})")
            )
            continue
        seen[(day, base, quote)] = number
        parsed.append(row)
    if problems:
        raise InputRejected(str(path), problems)
    return parsed


def _rate_row(number: int, cells: dict[str, str], problems: list[Problem]) -> tuple[date, str, str, Decimal] | None:
    """One row's (day, base, quote, rate), or None with every problem of the row added to ``problems``."""
    day = _day_cell(number, cells["date"], problems)
    codes = {}
    for column in ("base", "quote"):
        code = _currency_cell(number, column, cells[column].upper(), problems)
        if code is not None:
            codes[column] = code
    ok = day is not None and len(codes) == 2
    if ok and codes["base"] == codes["quote"]:
        problems.append(Problem(number, "quote", "base and quote currency are the same"))
        ok = False
    value = _rate_cell(number, cells["rate"], problems)
    if not ok or day is None or value is None:
        return None
    return day, codes["base"], codes["quote"], value


def _day_cell(number: int, text: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(text.split(" ")[0].split("T")[0])  # XLSX dates read as datetimes
    except ValueError:
        problems.append(Problem(number, "date", f"{text!r} is not a date (YYYY-MM-DD)"))
        return None


def _currency_cell(number: int, column: str, code: str, problems: list[Problem]) -> str | None:
    try:
        return require_currency(code)
    except UnknownCurrency as exc:
        problems.append(Problem(number, column, str(exc) if code else "empty currency"))
        return None


def _rate_cell(number: int, text: str, problems: list[Problem]) -> Decimal | None:
    """A positive rate with at most 6 decimal places."""
    try:
        value = parse_decimal(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "..."
        problems.append(Problem(number, "rate", f"{shown!r} is not a number"))
        return None
    problem = limits.rate_problem(value)
    if problem:
        problems.append(Problem(number, "rate", problem))
        return None
    return value


ECB_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


def read_ecb_xml(path: str | Path) -> list[tuple[date, str, str, Decimal]]:
    """Read the European Central Bank's reference rates (``eurofxref-daily.xml``, ``-hist-90d.xml`` or
    ``-hist.xml``): ``<Cube time="YYYY-MM-DD">`` days holding ``<Cube currency="USD" rate="1.0550"/>``,
    each meaning 1 EUR = rate units of the currency. Checked whole like a CSV: every bad day, currency or
    rate is listed (by its position in the file) and nothing is returned."""
    import xml.etree.ElementTree as ET

    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"not a readable ECB XML file: {exc}")]) from None
    problems: list[Problem] = []
    parsed: list[tuple[date, str, str, Decimal]] = []
    days = [cube for cube in root.iter(f"{ECB_NAMESPACE}Cube") if cube.get("time")]
    if not days:
        raise InputRejected(str(path), [Problem(0, "", 'no <Cube time="..."> day: not an ECB eurofxref file')])
    number = 0
    for day_cube in days:
        day = _day_cell(number, day_cube.get("time", ""), problems)
        for cube in day_cube.findall(f"{ECB_NAMESPACE}Cube"):
            number += 1
            code = _currency_cell(number, "currency", (cube.get("currency") or "").upper(), problems)
            value = _rate_cell(number, cube.get("rate") or "", problems)
            if day is not None and code is not None and value is not None and code != "EUR":
                parsed.append((day, "EUR", code, value))
    if problems:
        raise InputRejected(str(path), problems)
    return parsed


def import_rates(session: Session, path: str | Path) -> tuple[int, int]:
    """Validate a rate file whole (CSV/XLSX with date, base, quote, rate; or the ECB's eurofxref XML), then
    apply it. Returns (rows changed, rows unchanged)."""
    if Path(path).suffix.lower() == ".xml":
        rows, source = read_ecb_xml(path), "ECB"
    else:
        rows, source = read_rate_file(path), Path(path).name
    changed = sum(set_rate(session, base, quote, value, day, source) for day, base, quote, value in rows)
    return changed, len(rows) - changed


class MissingRates(LookupError):
    """Several (currency, day) pairs have no rate into the report currency; names every one of them."""

    def __init__(self, quote: str, missing: dict[str, list[date]], via: str | None = None):
        self.quote, self.missing = quote, {c: sorted(days) for c, days in sorted(missing.items())}
        parts = [
            f"{currency} on {len(days)} day(s): {', '.join(d.isoformat() for d in days)}"
            for currency, days in self.missing.items()
        ]
        hints = "; ".join(
            f"`syncer fx set {c} {quote} RATE --date {days[0].isoformat()}`" for c, days in self.missing.items()
        )
        through = f" (directly, inversely or through {via})" if via and via != quote else ""
        super().__init__(
            f"no FX rate into {quote}{through} on or before these order days: "
            + " | ".join(parts)
            + f". Add rates with {hints} (or `syncer fx import FILE`)."
        )


@dataclass(frozen=True, slots=True)
class Leg:
    """One stored rate a conversion used: 1 ``base`` = ``rate`` ``quote`` from ``day`` (``source``);
    ``inverse`` when the stored pair was quote->base and its reciprocal was taken."""

    base: str
    quote: str
    day: date
    rate: Decimal
    source: str
    inverse: bool = False

    def __str__(self) -> str:
        how = f"1 / {self.quote}->{self.base}" if self.inverse else f"{self.base}->{self.quote}"
        return f"{how} {self.rate} of {self.day.isoformat()} ({self.source})"


@dataclass(frozen=True, slots=True)
class RateUsed:
    """The rate a report used for one currency on one day, and how it was found (1, 2 legs)."""

    currency: str
    quote: str
    day: date
    rate: Decimal
    legs: tuple[Leg, ...]

    @property
    def method(self) -> str:
        if not self.legs:
            return "same currency"
        if len(self.legs) == 2:
            return f"via {self.legs[0].quote}"
        return "inverse" if self.legs[0].inverse else "direct"


Series = tuple[list[date], list[Decimal], list[str]]


class RateBook:
    """Rates into one quote currency for many (currency, day) pairs, on the nearest earlier day: the
    direct pair, else the inverse pair, else through ``via`` (the base currency) when both legs exist
    (triangulation: CUR->via x via->QUOTE, each leg direct or inverse). ``used`` records every rate used."""

    def __init__(self, session: Session, quote: str, via: str | None = None):
        self.session, self.quote, self.via = session, quote, via
        self._series: dict[tuple[str, str], Series] = {}
        self.used: dict[tuple[str, date], RateUsed] = {}

    def _load(self, base: str, quote: str) -> Series:
        if (base, quote) not in self._series:
            rows = self.session.execute(
                select(FxRate.day, FxRate.rate, FxRate.source)
                .where(FxRate.base == base, FxRate.quote == quote)
                .order_by(FxRate.day)
            ).all()
            self._series[(base, quote)] = ([d for d, _, _ in rows], [r for _, r, _ in rows], [s for *_, s in rows])
        return self._series[(base, quote)]

    def _leg(self, base: str, quote: str, day: date) -> Leg | None:
        from bisect import bisect_right

        days, rates, sources = self._load(base, quote)
        i = bisect_right(days, day)
        if i:
            return Leg(base, quote, days[i - 1], rates[i - 1], sources[i - 1])
        days, rates, sources = self._load(quote, base)
        j = bisect_right(days, day)
        if j:
            inverse = (Decimal(1) / rates[j - 1]).quantize(Decimal("0.000001"))
            return Leg(base, quote, days[j - 1], inverse, sources[j - 1], inverse=True)
        return None

    def find(self, currency: str, day: date) -> RateUsed | None:
        """The rate currency->quote on ``day`` and the stored rates it came from (None: no way)."""
        if currency == self.quote:
            return RateUsed(currency, self.quote, day, Decimal(1), ())
        leg = self._leg(currency, self.quote, day)
        if leg is not None:
            return RateUsed(currency, self.quote, day, leg.rate, (leg,))
        via = self.via
        if via is None or via in (currency, self.quote):
            return None
        first, second = self._leg(currency, via, day), self._leg(via, self.quote, day)
        if first is None or second is None:
            return None
        return RateUsed(currency, self.quote, day, first.rate * second.rate, (first, second))

    def get(self, currency: str, day: date) -> Decimal | None:
        found = self.find(currency, day)
        return None if found is None else found.rate

    def resolve(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], Decimal]:
        """Rates for every (currency, day); raises ``MissingRates`` naming ALL the missing ones."""
        found: dict[tuple[str, date], Decimal] = {}
        missing: dict[str, list[date]] = {}
        for currency, day in sorted(set(pairs)):
            used = self.find(currency, day)
            if used is None:
                missing.setdefault(currency, []).append(day)
            else:
                found[(currency, day)] = used.rate
                self.used[(currency, day)] = used
        if missing:
            raise MissingRates(self.quote, missing, self.via)
        return found
