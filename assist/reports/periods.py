"""The reporting period: two dates, both included, defaulting to the last twelve months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _

#: Dates outside this range are refused: they are typing errors, and date arithmetic at the
#: extremes (year 1 or 9999) would overflow.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says what to fix."""

    def __init__(self, message: str, field: str = "end") -> None:
        super().__init__(message)
        self.message = message
        #: The form field to show the message next to.
        self.field = field


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        """The first instant of the period (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        """The first instant after the period (UTC): timestamps are compared with ``<``."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def twelve_months_before(day: date) -> date:
    """The first day of the twelve months that end on ``day`` (both days included)."""
    try:
        year_ago = day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        year_ago = day.replace(year=day.year - 1, day=28)
    return year_ago + timedelta(days=1)


def _out_of_range(name: str, value: date) -> str:
    # Dates in messages stay ISO (YYYY-MM-DD): that is how the form asks for them.
    bounds = {
        "date": value.isoformat(),
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }
    if name == "start":
        return _(
            "The start date %(date)s is out of range: give a date between %(earliest)s and "
            "%(latest)s.",
            **bounds,
        )
    return _(
        "The end date %(date)s is out of range: give a date between %(earliest)s and %(latest)s.",
        **bounds,
    )


def make_period(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """The period from two optional dates; a missing end is today, a missing start is twelve
    months before the end. Raises ``PeriodError`` with a message written for the user."""
    today = today or datetime.now(UTC).date()
    end = end or max(today, start or today)
    start = start or twelve_months_before(end)
    for name, value in (("start", start), ("end", end)):
        if not EARLIEST <= value <= LATEST:
            raise PeriodError(_out_of_range(name, value), name)
    if start > end:
        raise PeriodError(
            _(
                "The start (%(start)s) is after the end (%(end)s): swap the two dates.",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    return Period(start, end)
