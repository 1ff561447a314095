"""Weekly schedules in a local time zone: when a rule is active.

A TimeWindow is a weekly window [start, end) in local wall-clock minutes on some weekdays; when
end <= start it runs past midnight into the next day and belongs to the day it starts on (a
Friday 21:00-06:00 window covers Saturday 03:00, not Friday 03:00). A Schedule is a set of
windows, with dates (holidays) on which none of its windows starts. ActiveWhen combines named
schedules: active during any of `during`, or outside all of `outside` (rodents: at night, or
whenever the kitchen is not in service); with neither, always. Wall-clock minutes make a daylight
saving change behave as people read a timetable.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


class Weekday(IntEnum):
    """Days as datetime.weekday() numbers them."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


ALL_DAYS: frozenset[Weekday] = frozenset(Weekday)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start_min: int  # minutes after local midnight, 0..1439
    end_min: int  # 1..1440; <= start_min: the window ends on the next day
    days: frozenset[Weekday] = ALL_DAYS

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < MINUTES_PER_DAY or not 0 <= self.end_min <= MINUTES_PER_DAY:
            raise ValueError("start must be in 00:00..23:59 and end in 00:00..24:00")
        if self.start_min == self.end_min:
            raise ValueError("a window needs a length: use 00:00-24:00 for the whole day")

    @property
    def crosses_midnight(self) -> bool:
        return self.end_min <= self.start_min

    def contains(self, local: datetime, off_dates: frozenset[date] = frozenset()) -> bool:
        """Whether the local wall-clock time falls in this window on some day it runs."""
        minute = local.hour * 60 + local.minute
        today = local.date()
        if not self.crosses_midnight:
            return (
                self.start_min <= minute < self.end_min
                and Weekday(today.weekday()) in self.days
                and today not in off_dates
            )
        if minute >= self.start_min:
            return Weekday(today.weekday()) in self.days and today not in off_dates
        yesterday = today - timedelta(days=1)
        return (
            minute < self.end_min
            and Weekday(yesterday.weekday()) in self.days
            and yesterday not in off_dates
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    windows: tuple[TimeWindow, ...]
    off_dates: frozenset[date] = frozenset()  # no window starts on these local dates

    def contains(self, local: datetime) -> bool:
        return any(window.contains(local, self.off_dates) for window in self.windows)


@dataclass(frozen=True, slots=True)
class ActiveWhen:
    timezone: ZoneInfo
    during: tuple[Schedule, ...] = ()
    outside: tuple[Schedule, ...] = ()
    description: str = "always"

    @property
    def always(self) -> bool:
        return not self.during and not self.outside

    def is_active(self, at: datetime) -> bool:
        """Whether `at` (an aware datetime) falls in this rule's active time."""
        if self.always:
            return True
        if at.tzinfo is None:
            raise ValueError("schedules need aware datetimes (frame.captured_at is UTC)")
        local = at.astimezone(self.timezone)
        if any(schedule.contains(local) for schedule in self.during):
            return True
        return bool(self.outside) and not any(schedule.contains(local) for schedule in self.outside)


def always(timezone: ZoneInfo | None = None) -> ActiveWhen:
    return ActiveWhen(timezone=timezone or ZoneInfo("Asia/Shanghai"))


def parse_clock(text: str) -> int:
    """'HH:MM' (00:00..24:00) as minutes after midnight; ValueError naming the problem."""
    hours, separator, minutes = text.partition(":")
    if (
        not separator
        or not (hours.isdigit() and minutes.isdigit())
        or len(minutes) != 2
        or not 1 <= len(hours) <= 2
    ):
        raise ValueError(f"time {text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"time {text!r} is not between 00:00 and 24:00")
    return value
