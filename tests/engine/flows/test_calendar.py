"""Working-hours calendar arithmetic (engine.flows.calendar)."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from engine.flows.calendar import (
    DEFAULT_WEEK, WorkCalendar, add_hours, add_working_hours, check_calendar, working_hours_between,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
ALL_DAY = (("00:00", "24:00"),)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def days(*isos: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in isos)


DEFAULT = WorkCalendar()
NATIONAL_DAY_2024 = WorkCalendar(
    holidays=days(*(f"2024-10-0{i}" for i in range(1, 8))), workdays=days("2024-09-29", "2024-10-12"))


# --- adding working hours ----------------------------------------------------------------------

def test_friday_afternoon_plus_24h_skips_weekend_and_holiday():
    cal = WorkCalendar(holidays=days("2024-04-15"))          # Monday off
    # Fri 1.5 h, (Sat, Sun, Mon off), Tue 8 h, Wed 8 h, Thu 6.5 h → Thu 16:00
    result = add_working_hours(cal, sh(2024, 4, 12, 16, 0), 24)
    assert result == sh(2024, 4, 18, 16, 0)
    assert result.tzinfo is UTC
    assert add_working_hours(DEFAULT, sh(2024, 4, 12, 16, 0), 24) == sh(2024, 4, 17, 16, 0)


def test_national_day_with_tiaoxiu_sunday_workday():
    # Fri 27 Sep 1.5 h, Sun 29 Sep (调休) 8 h, Mon 30 Sep 8 h, 1–7 Oct off, Tue 8 Oct 6.5 h
    assert add_working_hours(NATIONAL_DAY_2024, sh(2024, 9, 27, 16, 0), 24) == sh(2024, 10, 8, 16, 0)


def test_tiaoxiu_saturday_workday_uses_monday_periods():
    start = sh(2024, 10, 11, 17, 0)                          # Friday, half an hour left
    assert add_working_hours(NATIONAL_DAY_2024, start, 2) == sh(2024, 10, 12, 10, 0)
    assert add_working_hours(DEFAULT, start, 2) == sh(2024, 10, 14, 10, 0)
    saturday = WorkCalendar(week=DEFAULT_WEEK[:5] + ((("09:00", "10:00"),), ()), workdays=days("2024-10-12"))
    assert add_working_hours(saturday, sh(2024, 10, 12, 7, 0), 4) == sh(2024, 10, 12, 13, 30)
    assert working_hours_between(NATIONAL_DAY_2024, sh(2024, 10, 12), sh(2024, 10, 13)) == 8.0


@pytest.mark.parametrize("start, hours, expected", [
    (sh(2024, 4, 16, 22, 0), 1, sh(2024, 4, 17, 9, 30)),       # at night
    (sh(2024, 4, 17, 3, 0), 1, sh(2024, 4, 17, 9, 30)),        # after midnight
    (sh(2024, 4, 17, 12, 30), 1, sh(2024, 4, 17, 14, 0)),      # at lunch
    (sh(2024, 4, 20, 10, 0), 1, sh(2024, 4, 22, 9, 30)),       # Saturday
    (sh(2024, 4, 21, 23, 59), 0.5, sh(2024, 4, 22, 9, 0)),     # Sunday night
    (sh(2024, 4, 17, 10, 0), 8, sh(2024, 4, 18, 10, 0)),       # a whole working day
])
def test_start_outside_or_inside_working_time(start, hours, expected):
    assert add_working_hours(DEFAULT, start, hours) == expected


def test_exactly_at_period_ends():
    assert add_working_hours(DEFAULT, sh(2024, 4, 17, 8, 30), 3.5) == sh(2024, 4, 17, 12, 0)
    assert add_working_hours(DEFAULT, sh(2024, 4, 17, 12, 0), 0.5) == sh(2024, 4, 17, 13, 30)
    assert add_working_hours(DEFAULT, sh(2024, 4, 17, 17, 30), 8) == sh(2024, 4, 18, 17, 30)
    assert add_working_hours(DEFAULT, sh(2024, 4, 19, 9, 0), 8) == sh(2024, 4, 22, 9, 0)
    assert working_hours_between(DEFAULT, sh(2024, 4, 17, 12, 0), sh(2024, 4, 17, 13, 0)) == 0.0


def test_zero_hours_returns_start_in_utc():
    start = sh(2024, 4, 20, 3, 0)                            # Saturday night: not moved
    result = add_working_hours(DEFAULT, start, 0)
    assert result == start and result.tzinfo is UTC and result.hour == 19


def test_negative_hours_go_backwards():
    assert add_working_hours(DEFAULT, sh(2024, 4, 22, 9, 30), -2) == sh(2024, 4, 19, 16, 30)
    assert add_working_hours(DEFAULT, sh(2024, 4, 17, 13, 0), -3.5) == sh(2024, 4, 17, 8, 30)
    assert working_hours_between(DEFAULT, sh(2024, 4, 22, 9, 30), sh(2024, 4, 19, 16, 30)) == -2.0


def test_period_across_midnight():
    night = WorkCalendar(week=((("22:00", "24:00"),), (("00:00", "06:00"),)) + ((),) * 5)
    assert add_working_hours(night, sh(2024, 4, 15, 23, 0), 3) == sh(2024, 4, 16, 2, 0)
    assert add_working_hours(night, sh(2024, 4, 15, 21, 0), 8) == sh(2024, 4, 16, 6, 0)
    assert add_working_hours(night, sh(2024, 4, 15, 21, 0), 9) == sh(2024, 4, 22, 23, 0)
    assert working_hours_between(night, sh(2024, 4, 15), sh(2024, 4, 17)) == 8.0


# --- daylight saving time ----------------------------------------------------------------------

def test_dst_weekend_in_berlin_keeps_local_office_hours():
    cal = WorkCalendar(timezone="Europe/Berlin")
    spring = add_working_hours(cal, berlin(2024, 3, 29, 16, 0), 2)   # CET → CEST over the weekend
    assert spring == berlin(2024, 4, 1, 9, 0) == datetime(2024, 4, 1, 7, 0, tzinfo=UTC)
    autumn = add_working_hours(cal, berlin(2024, 10, 25, 16, 0), 2)  # CEST → CET
    assert autumn == berlin(2024, 10, 28, 9, 0) == datetime(2024, 10, 28, 8, 0, tzinfo=UTC)


def test_dst_days_have_23_and_25_working_hours_on_a_24h_calendar():
    cal = WorkCalendar(timezone="Europe/Berlin", week=(ALL_DAY,) * 7)
    assert working_hours_between(cal, berlin(2024, 3, 31), berlin(2024, 4, 1)) == 23.0
    assert working_hours_between(cal, berlin(2024, 10, 27), berlin(2024, 10, 28)) == 25.0
    start = berlin(2024, 3, 30, 12, 0)
    assert add_working_hours(cal, start, 24) == berlin(2024, 3, 31, 13, 0) == add_hours(start, 24)
    start = berlin(2024, 10, 26, 12, 0)
    assert add_working_hours(cal, start, 24) == berlin(2024, 10, 27, 11, 0) == add_hours(start, 24)


def test_dst_inside_a_working_period():
    cal = WorkCalendar(timezone="Europe/Berlin", week=((),) * 6 + ((("01:00", "04:00"),),))   # Sundays
    assert working_hours_between(cal, berlin(2024, 3, 31), berlin(2024, 4, 1)) == 2.0
    assert working_hours_between(cal, berlin(2024, 10, 27), berlin(2024, 10, 28)) == 4.0
    assert working_hours_between(cal, berlin(2024, 10, 20), berlin(2024, 10, 21)) == 3.0
    assert add_working_hours(cal, berlin(2024, 3, 31), 1.5) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert add_working_hours(cal, berlin(2024, 3, 31), 2) == berlin(2024, 3, 31, 4, 0)
    assert add_working_hours(cal, berlin(2024, 10, 27), 3.5) == datetime(2024, 10, 27, 2, 30, tzinfo=UTC)
    assert add_working_hours(cal, berlin(2024, 10, 27), 4) == berlin(2024, 10, 27, 4, 0)


def test_add_hours_is_plain_elapsed_time():
    result = add_hours(berlin(2024, 3, 30, 12, 0), 24)
    assert result == datetime(2024, 3, 31, 11, 0, tzinfo=UTC) and result.tzinfo is UTC
    assert add_hours(sh(2024, 1, 1), -1.5) == datetime(2023, 12, 31, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        add_hours(datetime(2024, 1, 1), 1)


# --- inverse property --------------------------------------------------------------------------

CALENDARS = [
    DEFAULT, NATIONAL_DAY_2024,
    WorkCalendar(timezone="Europe/Berlin", holidays=days("2024-03-29", "2024-04-01", "2024-12-25")),
    WorkCalendar(timezone="Europe/Berlin", week=(ALL_DAY,) * 7),
    WorkCalendar(timezone="Europe/Berlin", week=((("22:00", "24:00"),), (("00:00", "06:00"),), (),
                                                 (("02:00", "03:30"),), (), (), (("01:00", "04:00"),))),
]
starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31),
                      timezones=st.sampled_from([SH, BERLIN, UTC]))
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=200, deadline=None)
@given(calendars, starts, st.floats(min_value=-500, max_value=500, allow_nan=False))
def test_working_hours_between_inverts_add_working_hours(cal, start, hours):
    end = add_working_hours(cal, start, hours)
    assert end.tzinfo is UTC
    assert (end >= start) if hours >= 0 else (end <= start)
    assert working_hours_between(cal, start, end) == pytest.approx(hours, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(calendars, starts, st.integers(min_value=0, max_value=60 * 24 * 40))
def test_add_working_hours_reaches_the_last_working_moment_before_end(cal, start, minutes):
    end = start + timedelta(minutes=minutes)
    hours = working_hours_between(cal, start, end)
    reached = add_working_hours(cal, start, hours)
    assert reached <= end + timedelta(microseconds=1)
    assert working_hours_between(cal, reached, end) == pytest.approx(0, abs=1e-6)


# --- guards ------------------------------------------------------------------------------------

def test_calendar_without_working_time_raises():
    empty = WorkCalendar(week=((),) * 7)
    with pytest.raises(ValueError, match="no working time"):
        add_working_hours(empty, sh(2024, 1, 1), 1)
    assert working_hours_between(empty, sh(2024, 1, 1), sh(2024, 2, 1)) == 0.0
    past_only = WorkCalendar(week=((),) * 7, workdays=days("2020-01-06"))
    with pytest.raises(ValueError, match="no working time within"):
        add_working_hours(past_only, sh(2024, 1, 1), 1)


def test_long_gaps_and_bad_arguments_raise():
    long_holiday = WorkCalendar(holidays=frozenset(date(2024, 1, 1) + timedelta(days=i) for i in range(4 * 366)))
    with pytest.raises(ValueError, match="no working time within"):
        add_working_hours(long_holiday, sh(2024, 1, 1), 1)
    assert working_hours_between(long_holiday, sh(2024, 1, 1), sh(2029, 1, 1)) > 0
    for hours in (float("nan"), float("inf"), "8", None):
        with pytest.raises(ValueError):
            add_working_hours(DEFAULT, sh(2024, 1, 1), hours)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_hours(DEFAULT, datetime(2024, 1, 1), 1)
    with pytest.raises(ValueError, match="time zone"):
        add_working_hours(WorkCalendar(timezone="Mars/Olympus"), sh(2024, 1, 1), 1)
    with pytest.raises(ValueError):
        add_working_hours(DEFAULT, sh(9999, 12, 20), 1000)


def test_ten_thousand_hours_is_fast():
    began = time.perf_counter()
    end = add_working_hours(DEFAULT, sh(2024, 1, 1, 8, 30), 10_000)
    assert working_hours_between(DEFAULT, sh(2024, 1, 1, 8, 30), end) == pytest.approx(10_000)
    assert add_working_hours(DEFAULT, end, -10_000) == sh(2024, 1, 1, 8, 30)
    assert time.perf_counter() - began < 2.0
    assert end.year == 2028                                  # 1250 working days


# --- JSON and checking -------------------------------------------------------------------------

def test_from_json_and_to_json_round_trip():
    assert WorkCalendar.from_json(None) == DEFAULT
    data = NATIONAL_DAY_2024.to_json()
    assert data["week"][0] == [["08:30", "12:00"], ["13:00", "17:30"]] and data["week"][5] == []
    assert data["holidays"][0] == "2024-10-01" and data["workdays"] == ["2024-09-29", "2024-10-12"]
    assert check_calendar(data) == []
    assert WorkCalendar.from_json(data) == NATIONAL_DAY_2024
    berlin_cal = WorkCalendar.from_json({"timezone": "Europe/Berlin"})
    assert berlin_cal.timezone == "Europe/Berlin" and berlin_cal.week == DEFAULT_WEEK


@pytest.mark.parametrize("junk", [
    None, 5, "x", [], {"timezone": 5, "week": "all"}, {"timezone": "../../etc/passwd", "week": [1] * 7},
    {"week": [[["08:00", "07:00"], ["x"], None, ["9:00", "10:00"], ["24:00", "24:00"]]] * 7},
    {"holidays": "2024-01-01", "workdays": [1, None, "2024-02-30", {"a": 1}]}, {"week": [[[[]]]] * 7},
])
def test_junk_never_crashes(junk):
    assert isinstance(check_calendar(junk), list)
    cal = WorkCalendar.from_json(junk)
    assert check_calendar(cal.to_json()) == [] or not any(cal.week)


def test_from_json_drops_bad_and_overlapping_periods():
    cal = WorkCalendar.from_json({"week": [[["13:00", "17:00"], ["08:00", "14:00"], ["x", "y"]],
                                           None, [], [], [], [], [["00:00", "24:00"]]],
                                  "holidays": ["2024-01-01", "junk"], "timezone": "Nowhere/City"})
    assert cal.week[0] == (("08:00", "14:00"),) and cal.week[6] == (("00:00", "24:00"),)
    assert cal.holidays == days("2024-01-01") and cal.timezone == "Asia/Shanghai"


def _paths(data) -> dict[str, tuple[str, str]]:
    return {p.path: (p.message.zh, p.message.en) for p in check_calendar(data)}


def test_check_calendar_reports_every_problem_with_paths_in_both_languages():
    assert check_calendar(None) == [] and check_calendar(DEFAULT.to_json()) == []
    assert _paths(5) == {"$": ("工作日历必须是对象", "A work calendar must be an object")}
    found = _paths({
        "timezone": "Mars/Olympus", "colour": "red",
        "week": [[["08:00", "12:00"], ["11:00", "13:00"]], [["25:00", "26:00"]], [["17:00", "09:00"]],
                 ["08:00"], "mon", [], [["00:00", "24:00"]]],
        "holidays": ["2024-10-01", "2024-10-01", "01/10/2024"], "workdays": ["2024-10-01"],
    })
    assert set(found) == {"$.timezone", "$.colour", "$.week[0][1]", "$.week[1][0][0]", "$.week[1][0][1]",
                          "$.week[2][0]", "$.week[3][0]", "$.week[4]", "$.holidays[1]", "$.holidays[2]",
                          "$.workdays[0]"}
    assert "Mars/Olympus" in found["$.timezone"][1] and "时区" in found["$.timezone"][0]
    assert found["$.week[0][1]"] == ("时间段必须按时间排序且不重叠", "Periods must be in order and must not overlap")
    assert found["$.week[2][0]"][1] == "A period must start before it ends"
    assert "HH:MM" in found["$.week[1][0][0]"][1] and "'25:00'" in found["$.week[1][0][0]"][0]
    assert found["$.workdays[0]"][1] == "2024-10-01 is both a holiday and a workday"
    assert "YYYY-MM-DD" in found["$.holidays[2]"][1] and "重复" in found["$.holidays[1]"][0]


def test_check_calendar_structure_and_empty_week():
    assert set(_paths({"week": [[]] * 6})) == {"$.week"}
    assert _paths({"week": [[]] * 7}) == {"$.week": ("日历没有任何工作时间", "The calendar has no working time at all")}
    assert check_calendar({"week": [[]] * 7, "workdays": ["2024-10-12"]}) == []
    assert set(_paths({"week": [[["08:00", "09:00"]] * 30] + [[]] * 6})) >= {"$.week[0]", "$.week[0][1]"}
    assert set(_paths({"holidays": "2024-01-01", "workdays": {}})) == {"$.holidays", "$.workdays"}
    assert check_calendar({"timezone": "Europe/Berlin", "week": [[["08:00", "09:00"], ["09:00", "10:00"]]] * 7}) == []
    problem = check_calendar({"timezone": ""})[0].to_dict("en")
    assert problem["path"] == "$.timezone" and set(problem["messages"]) == {"zh-CN", "en"}
