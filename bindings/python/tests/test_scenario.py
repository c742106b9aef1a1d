"""The scenario every language runs: a real tessera-cloud process, sign up and log in
with a SecureStore written in Python, codes of every schedule kind observed through a
listener, the cloud taken away and brought back, revoke, and errors as exceptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import tessera_ffi as t
from support import (
    PASSWORD,
    Cloud,
    CollectingLogger,
    Device,
    RecordingCodesListener,
    RecordingSyncListener,
    local,
    new_lock,
    request,
    run,
    wait_until,
)

EMAIL = "owner@example.com"
NEW_YORK = "America/New_York"

EVERY_KIND: list[tuple[str, t.Schedule]] = [
    ("Family", t.Schedule.PERMANENT()),
    ("Anna", t.Schedule.WINDOW(start=local(2031, 3, 30, 2, 30), end=local(2031, 3, 30, 12, 0))),
    ("Courier", t.Schedule.ONE_TIME(start=local(2031, 10, 26, 8, 0), end=local(2031, 10, 26, 12, 0))),
    (
        "Night nurse",
        t.Schedule.WEEKLY(
            days=[t.Weekday.FRIDAY, t.Weekday.SATURDAY],
            start_time=t.LocalTime(hour=22, minute=0),
            end_time=t.LocalTime(hour=6, minute=30),
            first_date=t.LocalDate(year=2031, month=1, day=3),
            last_date=t.LocalDate(year=2031, month=12, day=27),
        ),
    ),
    (
        "Plumber",
        t.Schedule.EXPIRING_AFTER_FIRST_USE(minutes=120, start=local(2031, 4, 7, 8, 0), end=local(2031, 4, 7, 18, 0)),
    ),
]


def ids(codes: list[t.AccessCode]) -> list[str]:
    return [code.id for code in codes]


def test_owner_scenario(cloud: Cloud, new_device: Callable[..., Device]) -> None:
    logger = CollectingLogger()
    phone = new_device("phone", logger)
    client = phone.client
    assert client.account() is None
    assert client.sync_status().activity == t.SyncActivity.SIGNED_OUT()

    # Sign up: the session lives in the Python SecureStore.
    account = run(client.sign_up(cloud.url, EMAIL, PASSWORD, "Pixel"))
    assert account.email == EMAIL
    assert isinstance(account.created_at, datetime) and account.created_at.tzinfo is not None
    assert client.account() == account
    assert set(phone.store.entries) == {"tessera.store-key", "tessera.session"}
    assert client.sync_status().activity == t.SyncActivity.IDLE()

    statuses = RecordingSyncListener()
    phone.handles.append(client.observe_sync_status(statuses))
    wait_until(lambda: statuses.seen, "the current sync status")
    assert statuses.seen[0] == client.sync_status()

    lock = new_lock(client)
    assert client.locks() == [lock]
    assert client.lock(lock.id) == lock

    # The listener hears the current list at once, then every change.
    listener = RecordingCodesListener()
    phone.handles.append(client.observe_codes(lock.id, listener))
    listener.wait_for(lambda codes: codes == [], "the current (empty) list")

    created: dict[str, t.AccessCode] = {}
    for label, schedule in EVERY_KIND:
        code = client.create_code(lock.id, request(label, schedule))
        assert (code.label, code.schedule, code.lock_id) == (label, schedule, lock.id)
        assert (code.status, code.sync, code.version, code.max_uses) == (
            t.CodeStatus.ACTIVE,
            t.CodeSync.PENDING(),
            1,
            None,
        )
        assert code.pin_length == 6  # the default lock's generated length
        assert len(client.reveal_pin(code.id)) == 6
        expected = [*created.values(), code]
        heard = listener.wait_for(
            lambda codes, expected=expected: ids(codes) == ids(expected), f"the list with {label}"
        )
        assert heard == expected
        created[label] = code
    assert client.codes(lock.id) == list(created.values())

    # Each code's effective window is the one previewed before it was created.
    now = datetime.now(UTC)
    assert {client.code_window(code.id, now, None).kind for code in created.values()} == set(t.ScheduleKind)
    for label, schedule in EVERY_KIND:
        preview = client.preview_schedule(lock.id, schedule, False, NEW_YORK)
        assert client.code_window(created[label].id, now, NEW_YORK) == preview
    anna = client.code_window(created["Anna"].id, now, None)
    assert anna.adjustments == ["start 2031-03-30 02:30 does not exist (clocks go forward); moved to 2031-03-30 03:30"]
    assert [(o.start.instant, o.end.instant) for o in anna.occurrences] == [
        (datetime(2031, 3, 30, 1, 30, tzinfo=UTC), datetime(2031, 3, 30, 10, 0, tzinfo=UTC))
    ]
    nurse = client.code_window(created["Night nurse"].id, now, None)
    first = nurse.occurrences[0]
    assert (first.start.lock.local, first.end.lock.local) == (local(2031, 1, 3, 22, 0), local(2031, 1, 4, 6, 30))
    assert nurse.more is True

    # The lock and five codes wait in the outbox; sync pushes them.
    assert client.sync_status().pending == 6
    report = run(client.sync())
    assert (report.pushed, report.refused) == (6, 0)
    status = client.sync_status()
    assert (status.activity, status.pending) == (t.SyncActivity.IDLE(), 0)
    assert status.last_success is not None and status.last_success <= datetime.now(UTC)
    assert all(code.sync == t.CodeSync.SYNCED() for code in client.codes(lock.id))
    listener.wait_for(
        lambda codes: len(codes) == 5 and all(c.sync == t.CodeSync.SYNCED() for c in codes), "the codes synced"
    )

    # The cloud goes away: codes are still made at once, and wait.
    cloud.stop()
    offline: list[t.AccessCode] = []
    for number, label in enumerate(["Babysitter", "Dog walker"], start=1):
        code = client.create_code(lock.id, request(label))
        assert code.sync == t.CodeSync.PENDING()
        offline.append(code)
        assert client.sync_status().pending == number
        listener.wait_for(lambda codes: ids(codes) == ids([*created.values(), *offline]), f"the list with {label}")
    with pytest.raises(t.TesseraError.Offline) as raised:
        run(client.sync())
    assert raised.value.reason
    status = client.sync_status()
    assert status.activity.is_offline(), status
    assert status.pending == 2
    wait_until(
        lambda: any(s.activity.is_offline() and s.pending == 2 for s in statuses.seen), "the listener to hear offline"
    )

    # It comes back on the same port with the same database: sync pushes what waited.
    cloud.restart()
    report = run(client.sync())
    assert (report.pushed, report.refused) == (2, 0)
    status = client.sync_status()
    assert (status.activity, status.pending) == (t.SyncActivity.IDLE(), 0)
    wait_until(
        lambda: statuses.seen[-1].activity == t.SyncActivity.IDLE() and statuses.seen[-1].pending == 0,
        lambda: f"the listener to hear idle again; heard {statuses.seen[-3:]}",
    )
    assert any(s.activity.is_syncing() for s in statuses.seen)
    all_codes = client.codes(lock.id)
    assert ids(all_codes) == ids([*created.values(), *offline])
    assert all(code.sync == t.CodeSync.SYNCED() for code in all_codes)

    # A second device of the same owner: a wrong password first, then the right one.
    tablet = new_device("tablet", logger)
    with pytest.raises(t.TesseraError.InvalidCredentials):
        run(tablet.client.log_in(cloud.url, EMAIL, "not the password", "Tablet"))
    assert tablet.client.account() is None
    assert "tessera.session" not in tablet.store.entries
    assert run(tablet.client.log_in(cloud.url, EMAIL, PASSWORD, "Tablet")) == account
    run(tablet.client.sync())
    assert tablet.client.locks() == [lock]
    theirs = tablet.client.codes(lock.id)
    assert [(c.id, c.label, c.schedule, c.status, c.version) for c in theirs] == [
        (c.id, c.label, c.schedule, c.status, c.version) for c in all_codes
    ]
    for code in all_codes:
        assert tablet.client.reveal_pin(code.id) == client.reveal_pin(code.id)

    # Revoke: at once here, on the tablet after sync; a second revoke changes nothing.
    plumber = created["Plumber"]
    revoked = client.revoke_code(plumber.id)
    assert (revoked.id, revoked.status, revoked.sync) == (plumber.id, t.CodeStatus.REVOKED, t.CodeSync.PENDING())
    assert revoked.version == plumber.version + 1
    assert client.revoke_code(plumber.id) == revoked
    listener.wait_for(
        lambda codes: any(c.id == plumber.id and c.status == t.CodeStatus.REVOKED for c in codes), "the revoked code"
    )
    assert run(client.sync()).pushed == 1
    assert client.code(plumber.id).sync == t.CodeSync.SYNCED()
    run(tablet.client.sync())
    assert tablet.client.code(plumber.id).status == t.CodeStatus.REVOKED
    assert [c.id for c in tablet.client.codes(lock.id) if c.status == t.CodeStatus.ACTIVE] == [
        c.id for c in all_codes if c.id != plumber.id
    ]

    # Signing out removes the account's data from the device.
    run(client.log_out())
    assert client.account() is None
    assert client.locks() == []
    assert client.sync_status().activity == t.SyncActivity.SIGNED_OUT()
    assert "tessera.session" not in phone.store.entries
    with pytest.raises(t.TesseraError.SignedOut):
        run(client.sync())


def test_signing_up_twice_is_email_taken(cloud: Cloud, new_device: Callable[..., Device]) -> None:
    run(new_device("first").client.sign_up(cloud.url, EMAIL, PASSWORD, None))
    with pytest.raises(t.TesseraError.EmailTaken):
        run(new_device("second").client.sign_up(cloud.url, EMAIL, PASSWORD, None))


def test_an_unreachable_cloud_is_offline(cloud: Cloud, device: Device) -> None:
    url = cloud.url
    cloud.stop()
    with pytest.raises(t.TesseraError.Offline):
        run(device.client.sign_up(url, EMAIL, PASSWORD, None))
    assert device.client.account() is None


def test_a_weak_pin_is_weak_pin_with_its_rule(device: Device) -> None:
    lock = new_lock(device.client)
    with pytest.raises(t.TesseraError.WeakPin) as raised:
        device.client.create_code(lock.id, request("Guest", pin="1234"))
    assert raised.value.rule == t.WeakPinRule.SEQUENCE
    assert raised.value.reason == "the digits count up or down in sequence"
    with pytest.raises(t.TesseraError.WeakPin) as raised:
        device.client.create_code(lock.id, request("Guest", pin="777777"))
    assert raised.value.rule == t.WeakPinRule.SAME_DIGIT
    assert device.client.codes(lock.id) == []


def test_pin_rules_are_typed_errors(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    with pytest.raises(t.TesseraError.PinLength) as length:
        client.create_code(lock.id, request("Guest", pin="482"))
    assert (length.value.length, length.value.min, length.value.max) == (3, 4, 8)
    with pytest.raises(t.TesseraError.InvalidPin):
        client.create_code(lock.id, request("Guest", pin="48a91"))
    first = client.create_code(lock.id, request("Guest", pin="482916"))
    with pytest.raises(t.TesseraError.PinConflict) as conflict:
        client.create_code(lock.id, request("Other guest", pin="482916"))
    assert conflict.value.other_code == first.id


@pytest.mark.parametrize(
    "schedule",
    [
        t.Schedule.WINDOW(start=local(2031, 5, 2, 12, 0), end=local(2031, 5, 1, 12, 0)),
        t.Schedule.ONE_TIME(start=local(2031, 5, 1, 12, 0), end=local(2031, 5, 1, 12, 0)),
        t.Schedule.EXPIRING_AFTER_FIRST_USE(minutes=60, start=local(2031, 5, 1, 18, 0), end=local(2031, 5, 1, 8, 0)),
        t.Schedule.WEEKLY(
            days=[t.Weekday.MONDAY],
            start_time=t.LocalTime(hour=9, minute=0),
            end_time=t.LocalTime(hour=17, minute=0),
            first_date=t.LocalDate(year=2031, month=5, day=31),
            last_date=t.LocalDate(year=2031, month=5, day=1),
        ),
    ],
    ids=["window", "one-time", "expiring", "weekly"],
)
def test_an_end_before_the_start_is_invalid_schedule(device: Device, schedule: t.Schedule) -> None:
    lock = new_lock(device.client)
    with pytest.raises(t.TesseraError.InvalidSchedule) as raised:
        device.client.create_code(lock.id, request("Guest", schedule))
    assert raised.value.reason in {"the window ends before it starts", "the last date is before the first date"}
    with pytest.raises(t.TesseraError.InvalidSchedule):
        device.client.preview_schedule(lock.id, schedule, False, None)
    assert device.client.codes(lock.id) == []


def test_a_kind_the_lock_cannot_hold_is_schedule_not_supported(device: Device) -> None:
    lock = new_lock(device.client, schedule_kinds=[t.ScheduleKind.PERMANENT, t.ScheduleKind.WINDOW])
    weekly = t.Schedule.WEEKLY(
        days=[t.Weekday.MONDAY],
        start_time=t.LocalTime(hour=9, minute=0),
        end_time=t.LocalTime(hour=17, minute=0),
        first_date=t.LocalDate(year=2031, month=5, day=1),
        last_date=t.LocalDate(year=2031, month=5, day=31),
    )
    with pytest.raises(t.TesseraError.ScheduleNotSupported) as raised:
        device.client.create_code(lock.id, request("Cleaner", weekly))
    assert raised.value.kind == t.ScheduleKind.WEEKLY
