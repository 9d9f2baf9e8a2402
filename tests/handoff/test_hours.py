"""Opening hours with fixed datetimes (2026-11-23 is a Monday)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from handoff.hours import parse_hours


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A UTC time in the week of Monday 2026-11-23 (day 0 = Monday ... 6 = Sunday, 7 = next Monday)."""
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=UTC) + timedelta(days=day)


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.mark.parametrize("spec", ["", "   "])
def test_an_empty_spec_is_always_open(spec: str) -> None:
    hours = parse_hours(spec)
    assert hours.always_open
    assert all(hours.is_open(at(day, hour)) for day in range(7) for hour in range(24))


def test_weekdays_nine_to_five_include_the_start_and_exclude_the_end() -> None:
    hours = parse_hours("mon-fri 09:00-17:00")

    assert not hours.is_open(at(MON, 8, 59, 59))
    assert hours.is_open(at(MON, 9))
    assert hours.is_open(at(WED, 12, 30))
    assert hours.is_open(at(FRI, 16, 59, 59))
    assert not hours.is_open(at(FRI, 17))
    assert not hours.is_open(at(SAT, 12))
    assert not hours.is_open(at(SUN, 12))


def test_several_clauses_add_up() -> None:
    hours = parse_hours("mon-fri 09:00-17:00; sat 10:00-14:00")

    assert hours.is_open(at(TUE, 10))
    assert hours.is_open(at(SAT, 10))
    assert not hours.is_open(at(SAT, 9, 59))
    assert not hours.is_open(at(SAT, 14))
    assert not hours.is_open(at(SUN, 11))


def test_several_ranges_lists_of_days_and_upper_case() -> None:
    hours = parse_hours("MON,Wed 09:00-12:30, 13:30-17:00")

    assert hours.is_open(at(MON, 12, 29))
    assert not hours.is_open(at(MON, 13))
    assert hours.is_open(at(WED, 13, 30))
    assert not hours.is_open(at(TUE, 10))


def test_overnight_ranges_belong_to_the_day_they_start() -> None:
    hours = parse_hours("mon-fri 22:00-06:00")

    assert not hours.is_open(at(MON, 3))  # would be Sunday night's shift
    assert hours.is_open(at(MON, 22))
    assert hours.is_open(at(TUE, 3))  # Monday night's shift
    assert not hours.is_open(at(TUE, 6))
    assert not hours.is_open(at(TUE, 12))
    assert hours.is_open(at(SAT, 5, 59))  # Friday night's shift
    assert not hours.is_open(at(SAT, 22))


def test_a_sunday_night_shift_runs_into_monday_morning() -> None:
    hours = parse_hours("sun 22:00-02:00")

    assert hours.is_open(at(SUN, 23))
    assert hours.is_open(at(MON, 1))  # the start of the week
    assert hours.is_open(at(MON + 7, 1, 59))
    assert not hours.is_open(at(MON, 2))
    assert not hours.is_open(at(SUN, 1))


def test_day_ranges_wrap_past_sunday_and_whole_days() -> None:
    hours = parse_hours("fri-mon 00:00-24:00")

    assert hours.is_open(at(FRI, 0))
    assert hours.is_open(at(SUN, 23, 59, 59))
    assert hours.is_open(at(MON, 12))
    assert not hours.is_open(at(TUE, 12))
    assert not hours.is_open(at(THU, 23, 59, 59))


def test_daily() -> None:
    hours = parse_hours("daily 08:00-20:00")
    assert all(hours.is_open(at(day, 8)) and not hours.is_open(at(day, 20)) for day in range(7))


def test_times_are_wall_clock_times_in_the_time_zone() -> None:
    hours = parse_hours("mon-fri 09:00-17:00", "Asia/Dhaka")  # UTC+6

    assert not hours.is_open(at(MON, 2, 59))  # 08:59 in Dhaka
    assert hours.is_open(at(MON, 3))  # 09:00 in Dhaka
    assert hours.is_open(at(FRI, 10, 59))  # 16:59 in Dhaka
    assert not hours.is_open(at(FRI, 11))
    assert not hours.is_open(at(SUN, 22))  # already Monday in Dhaka, but 04:00
    assert not parse_hours("mon-fri 09:00-17:00").is_open(at(MON, 3))  # the same instant, UTC hours


def test_daylight_saving_time_keeps_the_wall_clock_hours() -> None:
    hours = parse_hours("mon-fri 09:00-17:00", "America/New_York")

    summer = datetime(2026, 7, 13, 13, 30, tzinfo=UTC)  # Monday 09:30 EDT
    winter = datetime(2026, 1, 12, 13, 30, tzinfo=UTC)  # Monday 08:30 EST
    assert hours.is_open(summer)
    assert not hours.is_open(winter)
    assert hours.is_open(winter + timedelta(hours=1))


def test_a_time_in_another_offset_is_converted() -> None:
    hours = parse_hours("mon 09:00-10:00")
    dhaka_time = datetime(2026, 11, 23, 15, 30, tzinfo=timezone(timedelta(hours=6)))  # 09:30 UTC
    assert hours.is_open(dhaka_time)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_hours("mon 09:00-10:00").is_open(datetime(2026, 11, 23, 9, 30))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mon-fru 09:00-17:00", "unknown day 'fru'"),
        ("monday 09:00-17:00", "unknown day 'monday'"),
        ("mon 9-17", "has no time range"),
        ("09:00-17:00", "names no days"),
        ("mon", "has no time range"),
        ("mon 25:00-26:00", "bad time '25:00'"),
        ("mon 09:60-10:00", "bad time '09:60'"),
        ("mon 24:30-02:00", "bad time '24:30'"),
        ("mon 24:00-02:00", "starts at 24:00"),
        ("mon 09:00-09:00", "empty time range"),
        ("mon 09:00-17:00;", "empty clause"),
        ("mon 09:00-17:00;; sat 10:00-12:00", "empty clause"),
        ("mon 09:00-12:00 13:00-17:00", "bad time range '09:00-12:00 13:00-17:00'"),
        ("mon 09:00-17:00, noon", "bad time range 'noon'"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_hours(spec)
    assert message in str(error.value)
    assert repr(spec) in str(error.value)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "America", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(tz: str) -> None:
    with pytest.raises(ValueError, match=f"unknown time zone '{tz}'"):
        parse_hours("mon 09:00-17:00", tz)


def test_the_default_time_zone_is_utc() -> None:
    assert str(parse_hours("mon 09:00-10:00").timezone) == "UTC"
    assert str(parse_hours("mon 09:00-10:00", "").timezone) == "UTC"
