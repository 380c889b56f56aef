"""The injectable clock: "today" is a setting so tests and demos can move time."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The real instant, for record timestamps (the demo clock does not move these)."""
    return dt.datetime.now(dt.timezone.utc)


class Clock:
    """Gives today's date and the current time, optionally pinned or shifted.

    `fixed_today` pins the date (tests, demos); `offset_days` moves it (the
    marktmeester moves the one product clock; every service follows, see shared.product_clock).
    """

    def __init__(self, fixed_today: dt.date | None = None, offset_days: int = 0) -> None:
        self.fixed_today = fixed_today
        self.offset_days = offset_days

    def base_date(self) -> dt.date:
        """The date before any offset: the pinned date, or the real one."""
        return self.fixed_today or utcnow().date()

    def today(self) -> dt.date:
        return self.base_date() + dt.timedelta(days=self.offset_days)

    def now(self) -> dt.datetime:
        """Now in product time: today's (moved) date at the real time of day.

        For everything that means "when, in the product's story" (proposal deadlines, reservation
        times, runs); record timestamps such as audit `updated_at` use `utcnow()` (real time).
        """
        real = utcnow()
        if self.fixed_today is None and not self.offset_days:
            return real
        return dt.datetime.combine(self.today(), real.timetz())


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # Beyond the calendar's range: the nearest end (a horizon past 9999 is "never").
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
