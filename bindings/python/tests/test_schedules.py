"""Every schedule kind through the generated module: what the lock will hold, to the
instant, in the lock's zone and the viewer's (daylight saving included). Local calls
only: no cloud needed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import tessera_ffi as t
from support import Device, local, new_lock, request

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
# Before every window below: code_window lists them from their first occurrence.
FROM = datetime(2030, 1, 1, tzinfo=UTC)


def zoned(zone: str, at: t.LocalDateTime, offset_hours: float, abbreviation: str) -> t.ZonedTime:
    return t.ZonedTime(local=at, zone=zone, utc_offset_seconds=int(offset_hours * 3600), abbreviation=abbreviation)


def moment(instant: datetime, lock: t.ZonedTime, viewer: t.ZonedTime | None = None) -> t.Moment:
    return t.Moment(instant=instant, lock=lock, viewer=viewer)


def berlin(at: t.LocalDateTime, summer: bool) -> t.ZonedTime:
    return zoned(BERLIN, at, 2 if summer else 1, "CEST" if summer else "CET")


def new_york(at: t.LocalDateTime, summer: bool) -> t.ZonedTime:
    return zoned(NEW_YORK, at, -4 if summer else -5, "EDT" if summer else "EST")


def test_permanent_has_no_occurrences(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    expected = t.EffectiveWindow(
        kind=t.ScheduleKind.PERMANENT,
        summary="always, until revoked",
        lock_zone=BERLIN,
        viewer_zone=None,
        occurrences=[],
        more=False,
        first_use_minutes=None,
        adjustments=[],
    )
    assert client.preview_schedule(lock.id, t.Schedule.PERMANENT(), False, None) == expected
    code = client.create_code(lock.id, request("Family"))
    assert code.schedule == t.Schedule.PERMANENT()
    assert client.code_window(code.id, FROM, None) == expected


def test_window_starting_in_the_spring_gap_moves_forward_by_the_gap(device: Device) -> None:
    """Europe/Berlin, 2031-03-30: clocks jump from 02:00 CET to 03:00 CEST, so 02:30 does
    not exist and becomes 03:30 CEST (01:30 UTC), as RFC 5545 and Temporal do."""
    client = device.client
    lock = new_lock(client)
    schedule = t.Schedule.WINDOW(start=local(2031, 3, 30, 2, 30), end=local(2031, 3, 30, 12, 0))
    expected = t.EffectiveWindow(
        kind=t.ScheduleKind.WINDOW,
        summary="from Sun 2031-03-30 03:30 CEST (UTC+02:00) until Sun 2031-03-30 12:00 CEST (UTC+02:00)",
        lock_zone=BERLIN,
        viewer_zone=NEW_YORK,
        occurrences=[
            t.Occurrence(
                start=moment(
                    datetime(2031, 3, 30, 1, 30, tzinfo=UTC),
                    berlin(local(2031, 3, 30, 3, 30), summer=True),
                    new_york(local(2031, 3, 29, 21, 30), summer=True),
                ),
                end=moment(
                    datetime(2031, 3, 30, 10, 0, tzinfo=UTC),
                    berlin(local(2031, 3, 30, 12, 0), summer=True),
                    new_york(local(2031, 3, 30, 6, 0), summer=True),
                ),
            )
        ],
        more=False,
        first_use_minutes=None,
        adjustments=["start 2031-03-30 02:30 does not exist (clocks go forward); moved to 2031-03-30 03:30"],
    )
    assert client.preview_schedule(lock.id, schedule, False, NEW_YORK) == expected

    code = client.create_code(lock.id, request("Anna", schedule))
    assert code.schedule == schedule  # the owner's intent is kept as stated
    assert client.code_window(code.id, FROM, NEW_YORK) == expected
    # From inside the window on, the same single interval; after it, nothing.
    inside = datetime(2031, 3, 30, 5, 0, tzinfo=UTC)
    assert client.code_window(code.id, inside, NEW_YORK).occurrences == expected.occurrences
    after = client.code_window(code.id, datetime(2031, 3, 30, 10, 0, tzinfo=UTC), None)
    assert (after.occurrences, after.more, after.viewer_zone) == ([], False, None)


def test_one_time_starting_in_the_autumn_overlap_takes_the_earlier_instant(device: Device) -> None:
    """Europe/Berlin, 2031-10-26: 02:30 happens twice (CEST, then CET); the first is used."""
    client = device.client
    lock = new_lock(client)
    schedule = t.Schedule.ONE_TIME(start=local(2031, 10, 26, 2, 30), end=local(2031, 10, 26, 4, 0))
    code = client.create_code(lock.id, request("Courier", schedule))
    window = client.code_window(code.id, FROM, NEW_YORK)
    assert window == t.EffectiveWindow(
        kind=t.ScheduleKind.ONE_TIME,
        summary="one entry between Sun 2031-10-26 02:30 CEST (UTC+02:00) and Sun 2031-10-26 04:00 CET (UTC+01:00)",
        lock_zone=BERLIN,
        viewer_zone=NEW_YORK,
        occurrences=[
            t.Occurrence(
                start=moment(
                    datetime(2031, 10, 26, 0, 30, tzinfo=UTC),
                    berlin(local(2031, 10, 26, 2, 30), summer=True),
                    new_york(local(2031, 10, 25, 20, 30), summer=True),
                ),
                end=moment(
                    datetime(2031, 10, 26, 3, 0, tzinfo=UTC),
                    berlin(local(2031, 10, 26, 4, 0), summer=False),
                    new_york(local(2031, 10, 25, 23, 0), summer=True),
                ),
            )
        ],
        more=False,
        first_use_minutes=None,
        adjustments=["start 2031-10-26 02:30 happens twice (clocks go back); the first one is used"],
    )
    assert client.preview_schedule(lock.id, schedule, False, NEW_YORK) == window


def test_weekly_crossing_midnight_ends_the_next_day(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    schedule = t.Schedule.WEEKLY(
        days=[t.Weekday.FRIDAY, t.Weekday.SATURDAY],
        start_time=t.LocalTime(hour=22, minute=0),
        end_time=t.LocalTime(hour=2, minute=0),
        first_date=t.LocalDate(year=2031, month=1, day=3),
        last_date=t.LocalDate(year=2031, month=1, day=31),
    )
    code = client.create_code(lock.id, request("Night shift", schedule))
    window = client.code_window(code.id, FROM, None)
    assert window.kind == t.ScheduleKind.WEEKLY
    assert window.summary == "Fri, Sat 22:00-02:00 next day (Europe/Berlin), 2031-01-03 to 2031-01-31"
    assert window.adjustments == []
    assert window.first_use_minutes is None
    # Fridays and Saturdays of January 2031, 22:00 CET (21:00 UTC) to 02:00 CET the next
    # morning; five are listed and more follow.
    nights = [3, 4, 10, 11, 17]
    assert [(o.start.instant, o.end.instant) for o in window.occurrences] == [
        (datetime(2031, 1, day, 21, 0, tzinfo=UTC), datetime(2031, 1, day + 1, 1, 0, tzinfo=UTC)) for day in nights
    ]
    assert [(o.start.lock, o.end.lock) for o in window.occurrences] == [
        (berlin(local(2031, 1, day, 22, 0), summer=False), berlin(local(2031, 1, day + 1, 2, 0), summer=False))
        for day in nights
    ]
    assert window.more is True
    # Listing from the second Saturday night on skips what has passed.
    later = client.code_window(code.id, datetime(2031, 1, 11, 22, 0, tzinfo=UTC), None)
    assert [o.start.instant.day for o in later.occurrences] == [11, 17, 18, 24, 25]
    assert later.more is True
    # An occurrence under way is listed; the last one starts on the last date.
    ongoing = client.code_window(code.id, datetime(2031, 1, 25, 0, 0, tzinfo=UTC), None)
    assert [o.start.instant.day for o in ongoing.occurrences] == [24, 25, 31]
    last = client.code_window(code.id, datetime(2031, 1, 26, 1, 0, tzinfo=UTC), None)
    assert [(o.start.instant, o.end.instant) for o in last.occurrences] == [
        (datetime(2031, 1, 31, 21, 0, tzinfo=UTC), datetime(2031, 2, 1, 1, 0, tzinfo=UTC))
    ]
    assert last.more is False
    assert client.preview_schedule(lock.id, schedule, False, None) == window


def test_expiring_after_first_use(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    schedule = t.Schedule.EXPIRING_AFTER_FIRST_USE(
        minutes=90, start=local(2031, 6, 1, 8, 0), end=local(2031, 6, 1, 18, 0)
    )
    code = client.create_code(lock.id, request("Plumber", schedule))
    window = client.code_window(code.id, FROM, "Asia/Kathmandu")
    assert window == t.EffectiveWindow(
        kind=t.ScheduleKind.EXPIRING_AFTER_FIRST_USE,
        summary=(
            "for 1 h 30 min after the first entry, which must be between "
            "Sun 2031-06-01 08:00 CEST (UTC+02:00) and Sun 2031-06-01 18:00 CEST (UTC+02:00)"
        ),
        lock_zone=BERLIN,
        viewer_zone="Asia/Kathmandu",
        occurrences=[
            t.Occurrence(
                start=moment(
                    datetime(2031, 6, 1, 6, 0, tzinfo=UTC),
                    berlin(local(2031, 6, 1, 8, 0), summer=True),
                    zoned("Asia/Kathmandu", local(2031, 6, 1, 11, 45), 5.75, "+0545"),
                ),
                end=moment(
                    datetime(2031, 6, 1, 16, 0, tzinfo=UTC),
                    berlin(local(2031, 6, 1, 18, 0), summer=True),
                    zoned("Asia/Kathmandu", local(2031, 6, 1, 21, 45), 5.75, "+0545"),
                ),
            )
        ],
        more=False,
        first_use_minutes=90,
        adjustments=[],
    )


@pytest.mark.parametrize(
    ("allow_widening", "start", "end", "adjustments"),
    [
        (
            False,
            local(2031, 6, 2, 10, 0),
            local(2031, 6, 2, 17, 0),
            [
                "start rounded from 2031-06-02 09:15 to 2031-06-02 10:00 (the lock keeps whole hours)",
                "end rounded from 2031-06-02 17:45 to 2031-06-02 17:00 (the lock keeps whole hours)",
            ],
        ),
        (
            True,
            local(2031, 6, 2, 9, 0),
            local(2031, 6, 2, 18, 0),
            [
                "start rounded from 2031-06-02 09:15 to 2031-06-02 09:00 (the lock keeps whole hours)",
                "end rounded from 2031-06-02 17:45 to 2031-06-02 18:00 (the lock keeps whole hours)",
            ],
        ),
    ],
)
def test_rounding_to_an_hourly_lock_narrows_unless_widening_is_allowed(
    device: Device,
    allow_widening: bool,
    start: t.LocalDateTime,
    end: t.LocalDateTime,
    adjustments: list[str],
) -> None:
    client = device.client
    lock = new_lock(client, granularity=t.Granularity.HOUR)
    schedule = t.Schedule.WINDOW(start=local(2031, 6, 2, 9, 15), end=local(2031, 6, 2, 17, 45))
    window = client.preview_schedule(lock.id, schedule, allow_widening, None)
    assert window.adjustments == adjustments
    [occurrence] = window.occurrences
    assert (occurrence.start.lock.local, occurrence.end.lock.local) == (start, end)

    code_request = request("Gardener", schedule)
    code_request.allow_widening = allow_widening
    code = client.create_code(lock.id, code_request)
    assert code.allow_widening is allow_widening
    assert client.code_window(code.id, FROM, None) == window
