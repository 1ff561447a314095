"""Schedules: weekly windows, midnight crossing, holidays, time zones, during/outside."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from edge.kitchen.schedule import ActiveWhen, Schedule, TimeWindow, Weekday, always, parse_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = frozenset(Weekday) - {Weekday.SAT, Weekday.SUN}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Shanghai: the 2nd is a Monday, the 6th a Friday, the 7th a Saturday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def service() -> Schedule:
    return Schedule(windows=(TimeWindow(parse_clock("06:00"), parse_clock("13:30"), WEEKDAYS),))


def night() -> Schedule:
    return Schedule(
        windows=(TimeWindow(parse_clock("21:00"), parse_clock("06:00"), frozenset({Weekday.FRI})),)
    )


def test_inside_and_outside_a_window() -> None:
    schedule = service()
    assert schedule.contains(local(2, 6, 0))
    assert schedule.contains(local(2, 13, 29))
    assert not schedule.contains(local(2, 13, 30))  # the end is excluded
    assert not schedule.contains(local(2, 5, 59))
    assert not schedule.contains(local(7, 10, 0))  # Saturday


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    schedule = night()  # Friday 21:00 - Saturday 06:00
    assert schedule.contains(local(6, 21, 0))
    assert schedule.contains(local(6, 23, 59))
    assert schedule.contains(local(7, 3, 0))
    assert not schedule.contains(local(7, 6, 0))
    assert not schedule.contains(local(6, 3, 0))  # Friday early morning belongs to Thursday


def test_off_dates_cancel_the_windows_starting_on_them() -> None:
    holiday = Schedule(windows=night().windows, off_dates=frozenset({date(2026, 3, 6)}))
    assert not holiday.contains(local(6, 22, 0))
    assert not holiday.contains(local(7, 3, 0))


def test_the_time_zone_decides_the_local_time() -> None:
    rule = ActiveWhen(timezone=SHANGHAI, during=(service(),))
    assert rule.is_active(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    assert not rule.is_active(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))  # 14:00 in Shanghai
    in_london = ActiveWhen(timezone=ZoneInfo("Europe/London"), during=(service(),))
    assert not in_london.is_active(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 02:00 there
    assert in_london.is_active(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


def test_during_or_outside_covers_nights_and_closed_hours() -> None:
    rodents = ActiveWhen(timezone=SHANGHAI, during=(night(),), outside=(service(),))
    assert rodents.is_active(local(7, 10, 0))  # Saturday: closed all day
    assert rodents.is_active(local(2, 15, 0))  # Monday afternoon after service
    assert not rodents.is_active(local(2, 10, 0))  # Monday during service
    assert rodents.is_active(local(7, 3, 0))  # Friday's night


def test_always_is_active_at_any_time() -> None:
    assert always().always
    assert always().is_active(datetime(2026, 1, 1, tzinfo=UTC))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ActiveWhen(timezone=SHANGHAI, during=(service(),)).is_active(datetime(2026, 3, 2, 10))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("6:05", 365), ("13:30", 810), ("24:00", 1440)]
)
def test_clock_times_parse(text: str, minutes: int) -> None:
    assert parse_clock(text) == minutes


@pytest.mark.parametrize("text", ["24:01", "12:60", "noon", "1230", "12:3", "-1:00"])
def test_bad_clock_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_clock(text)


def test_a_window_needs_a_length() -> None:
    with pytest.raises(ValueError, match="length"):
        TimeWindow(600, 600)
