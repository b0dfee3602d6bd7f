"""Report periods in the team's time zone: named presets (``last-week``, ``this-quarter``, ...), the UTC
instants a period covers, and the SQL that puts a UTC timestamp on its local day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, literal, literal_column
from sqlalchemy.orm import Session

PERIODS = (
    "today",
    "yesterday",
    "last-7-days",
    "this-week",
    "last-week",
    "this-month",
    "last-month",
    "this-quarter",
    "last-quarter",
    "this-year",
    "last-year",
)


class PeriodError(ValueError):
    """An unknown period name or time zone (the message lists what is accepted)."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai or UTC") from None


def today_in(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone(tz)).date()


def _quarter_start(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def _month_before(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def period_days(name: str, today: date) -> tuple[date, date]:
    """The first and last day (inclusive) of a named period, relative to ``today`` (a local date).
    Weeks start on Monday; ``this-*`` periods end today."""
    if name == "today":
        return today, today
    if name == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    if name == "last-7-days":
        return today - timedelta(days=6), today
    monday = today - timedelta(days=today.weekday())
    if name == "this-week":
        return monday, today
    if name == "last-week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if name == "this-month":
        return today.replace(day=1), today
    if name == "last-month":
        first = _month_before(today.replace(day=1))
        return first, today.replace(day=1) - timedelta(days=1)
    quarter = _quarter_start(today)
    if name == "this-quarter":
        return quarter, today
    if name == "last-quarter":
        start = _quarter_start(quarter - timedelta(days=1))
        return start, quarter - timedelta(days=1)
    if name == "this-year":
        return today.replace(month=1, day=1), today
    if name == "last-year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise PeriodError(f"unknown period {name!r}: use one of {', '.join(PERIODS)} (or --from/--to)")


#: the longest report (about ten years) and the years a report's days may lie in: every day is a row or a
#: time-zone stretch somewhere, so an unbounded window (a typo'd year) would run for hours
MAX_REPORT_DAYS = 3660
FIRST_YEAR, LAST_YEAR = 1970, 2999


def utc_window(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """[first 00:00 local, last + 1 day 00:00 local) as UTC instants (a report's days: at most
    :data:`MAX_REPORT_DAYS`, between :data:`FIRST_YEAR` and :data:`LAST_YEAR`)."""
    if last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise PeriodError(
            f"report days must lie between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31, not {first} .. {last}"
        )
    if (last - first).days >= MAX_REPORT_DAYS:
        raise PeriodError(
            f"{first} .. {last} is {(last - first).days + 1} days: a report covers at most {MAX_REPORT_DAYS} days"
        )
    local = zone(tz)
    start = datetime.combine(first, time(), local).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), local).astimezone(UTC)
    return start, end


def _offsets(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(from instant, UTC offset in minutes) for every stretch of constant offset in [start, end)."""
    local = zone(tz)

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(local).utcoffset() or timedelta()
        return int(delta.total_seconds() // 60)

    found = [(start, offset(start))]
    moment = start
    while moment < end:
        step = min(moment + timedelta(hours=1), end)
        if offset(step) != found[-1][1] and step < end:
            lo, hi = moment, step  # the change is in (lo, hi]: narrow it to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (lo, mid) if offset(mid) != found[-1][1] else (mid, hi)
            found.append((hi, offset(hi)))
        moment = step
    return found


def local_day(session: Session, column, tz: str, start: datetime, end: datetime):
    """SQL: the local calendar day (in ``tz``) of a UTC timestamp column, for rows in [start, end).

    PostgreSQL converts with its own zone database. SQLite keeps naive UTC text: each stretch of the window
    with one UTC offset shifts by that many minutes (so daylight saving changes inside it are exact)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal(tz), column))
    stretches = _offsets(tz, start, end)

    def shifted(minutes: int):
        if minutes == 0:
            return func.substr(column, literal_column("1"), literal_column("10"))
        # whole seconds first: SQLite rounds fractions to milliseconds (23:59:59.9999 would be the next day)
        seconds = func.substr(column, literal_column("1"), literal_column("19"))
        return func.date(seconds, literal_column(f"'{minutes:+d} minutes'"))

    if len(stretches) == 1:
        return shifted(stretches[0][1])
    whens = [
        (column < moment, shifted(offset)) for (moment, _), (_, offset) in zip(stretches[1:], stretches, strict=False)
    ]
    return case(*whens, else_=shifted(stretches[-1][1]))
