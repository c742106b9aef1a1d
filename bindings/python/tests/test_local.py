"""Locally connected locks through the FFI, against real `tessera-lock` processes on
loopback ports: pairing with the setup code (and a wrong one), a window code delivered
over the local route and opening the lock's keypad, offline codes opening it with no
network and refused after an epoch rotation, discovery by address, the lock's log and
clock, a Bluetooth transport written in Python carrying the protocol end to end, bad
input as exact errors, and no PIN in anything a Python app prints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import tessera_ffi as t
from support import SETUP_CODE, Device, LockProcess, TcpBleTransport, local, new_lock, request, run

BERLIN = ZoneInfo("Europe/Berlin")
UNKNOWN_ID = "01a2177c-cb63-7442-be5d-342c568425c7"
DEVICE = "AA:BB:CC:00:00:01"


def pair(client: t.TesseraClient, lock: LockProcess) -> t.PairedLock:
    return run(client.pair_lock(lock.address, SETUP_CODE))


def window_now(client: t.TesseraClient, lock_id: str, label: str = "Anna") -> t.AccessCode:
    """A window code open from the last full hour (Berlin time) for three hours."""
    start = datetime.now(BERLIN).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    end = start + timedelta(hours=4)
    schedule = t.Schedule.WINDOW(
        start=local(start.year, start.month, start.day, start.hour),
        end=local(end.year, end.month, end.day, end.hour),
    )
    return client.create_code(lock_id, request(label, schedule))


def set_on_lock(client: t.TesseraClient, code_id: str) -> bool:
    return client.code(code_id).sync.is_SET_ON_LOCK()


def test_pair_deliver_a_window_code_and_the_keypad_opens(
    device: Device, start_lock: Callable[..., LockProcess]
) -> None:
    lock = start_lock("Front door", "Europe/Berlin")
    client = device.client
    paired = pair(client, lock)
    assert paired.added and paired.offline_codes
    assert paired.lock.name == "Front door" and paired.lock.time_zone == "Europe/Berlin"
    assert paired.info.lock_id == paired.lock.id
    assert paired.lock.id.replace("-", "") == lock.status()["id"]
    assert paired.lock.capabilities.offline_codes
    assert client.lock(paired.lock.id) == paired.lock
    route = client.local_route(paired.lock.id)
    assert route is not None and route.address == lock.address and route.ble_device is None
    # The pairing key and the offline secret are in the app's secure store.
    hex_id = paired.lock.id.replace("-", "")
    assert {f"tessera.lock.{hex_id}", f"tessera.offline.{hex_id}"} <= device.store.entries.keys()

    code = window_now(client, paired.lock.id)
    assert code.sync.is_PENDING()
    pin = client.reveal_pin(code.id)
    delivery = run(client.deliver(paired.lock.id))
    assert delivery.route == t.DeliveryRoute.LOCAL
    assert delivery.local is not None and delivery.local.set == 1 and delivery.local.refused == []
    assert delivery.local_error is None
    # Not signed in: the cloud was not tried.
    assert delivery.cloud is None and delivery.cloud_error is None
    assert set_on_lock(client, code.id)
    assert run(client.lock_info(paired.lock.id)).codes == 1

    assert lock.keypad(pin) == "open"
    wrong = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    assert lock.keypad(wrong) == "refused"

    # Pushing again changes nothing.
    again = run(client.push_to_lock(paired.lock.id))
    assert (again.set, again.unchanged, again.removed) == (0, 1, 0)

    # Revoked and delivered: the lock drops it, the keypad refuses it.
    client.revoke_code(code.id)
    assert run(client.deliver(paired.lock.id)).local.removed == 1
    assert lock.keypad(pin) == "refused"

    events = run(client.read_lock_events(paired.lock.id))
    activities = [entry.activity for entry in events]
    assert t.LockActivity.CODE_SET(code_id=code.id) in activities
    assert t.LockActivity.CODE_USED(code_id=code.id) in activities
    assert t.LockActivity.CODE_REMOVED(code_id=code.id) in activities
    assert any(activity.is_PAIRED() for activity in activities)
    assert sum(1 for activity in activities if activity.is_ENTRY_REFUSED()) == 2
    assert [entry.seq for entry in events] == sorted(entry.seq for entry in events)
    # Read again: nothing new. The stored log is newest first.
    assert run(client.read_lock_events(paired.lock.id)) == []
    log = client.lock_log(paired.lock.id, 1000)
    assert [entry.seq for entry in log] == sorted((entry.seq for entry in events), reverse=True)
    assert len(client.lock_log(paired.lock.id, 2)) == 2

    clock = run(client.sync_lock_clock(paired.lock.id))
    assert isinstance(clock.set_to, datetime) and isinstance(clock.drift_ms, int)


def test_a_wrong_setup_code_is_pairing_refused(device: Device, start_lock: Callable[..., LockProcess]) -> None:
    lock = start_lock()
    client = device.client
    kept = set(device.store.entries)
    with pytest.raises(t.TesseraError.PairingRefused) as raised:
        run(client.pair_lock(lock.address, "87654321"))
    assert client.locks() == [] and client.local_route(UNKNOWN_ID) is None
    assert set(device.store.entries) == kept, "no pairing key or offline secret kept"
    # The right code still pairs, and the lock logged the failed attempt.
    paired = pair(client, lock)
    activities = [entry.activity for entry in run(client.read_lock_events(paired.lock.id))]
    assert t.LockActivity.PAIRING_FAILED() in activities


def test_an_offline_code_opens_the_keypad_until_the_epoch_is_rotated(
    device: Device, start_lock: Callable[..., LockProcess]
) -> None:
    lock = start_lock()
    client = device.client
    paired = pair(client, lock)
    before = datetime.now(UTC)
    code = client.issue_offline_code(
        paired.lock.id,
        t.OfflineCodeRequest(offline_class=t.OfflineClass.HOURS4, start=None, label="Courier"),
    )
    assert code.lock_id == paired.lock.id and code.label == "Courier"
    assert code.offline_class == t.OfflineClass.HOURS4
    assert code.description == t.offline_class_description(t.OfflineClass.HOURS4) == "4 hours from the start"
    assert code.lock_zone == "Europe/Berlin"
    assert code.epoch == paired.info.epoch
    pin = code.pin.digits()
    assert len(pin) == code.pin_length == paired.info.offline_digits and pin.isdigit()
    # Shown before sharing: its window, the deadline for its first use, what is left.
    assert code.start <= before + timedelta(seconds=5) < code.end
    assert code.end - code.start == timedelta(hours=4)
    assert code.start < code.first_use_by <= code.end
    assert 0 <= code.remaining < 4
    # Starting now, it starts at the current hour: earlier than asked, losing nothing.
    assert code.start <= before

    issued = client.offline_codes(paired.lock.id)
    assert len(issued) == 1 and issued[0].label == "Courier" and not issued[0].revoked
    assert issued[0].pin is not None and issued[0].pin.digits() == pin
    assert issued[0].offline_class == t.OfflineClass.HOURS4

    # The lock checks it with its clock alone; a 4-hour code opens more than once.
    assert lock.keypad(pin) == "open"
    assert lock.keypad(pin) == "open"
    second = client.issue_offline_code(
        paired.lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.DAY1, label="Cleaner")
    )
    assert second.pin.digits() != pin

    epoch = run(client.rotate_offline_epoch(paired.lock.id))
    assert epoch == paired.info.epoch + 1
    assert lock.status()["epoch"] == epoch
    assert lock.keypad(pin) == "refused"
    assert lock.keypad(second.pin.digits()) == "refused"
    listed = client.offline_codes(paired.lock.id)
    assert [(code.label, code.revoked, code.pin) for code in listed] == [
        ("Cleaner", True, None),
        ("Courier", True, None),
    ]
    # A code of the new epoch opens.
    fresh = client.issue_offline_code(
        paired.lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.ONE_TIME, label="Plumber")
    )
    assert fresh.epoch == epoch
    assert lock.keypad(fresh.pin.digits()) == "open"
    events = run(client.read_lock_events(paired.lock.id))
    assert t.LockActivity.EPOCH_ROTATED(epoch=epoch) in [entry.activity for entry in events]
    used = [entry.activity for entry in events if entry.activity.is_OFFLINE_CODE_USED()]
    assert [activity.offline_class for activity in used] == [
        t.OfflineClass.HOURS4,
        t.OfflineClass.HOURS4,
        t.OfflineClass.ONE_TIME,
    ]


def test_an_offline_code_needs_no_network(device: Device, start_lock: Callable[..., LockProcess]) -> None:
    lock = start_lock()
    client = device.client
    paired = pair(client, lock)
    lock.stop()
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    code = client.issue_offline_code(
        paired.lock.id,
        t.OfflineCodeRequest(
            offline_class=t.OfflineClass.DAILY4_HOURS_FOR7_DAYS,
            start=local(tomorrow.year, tomorrow.month, tomorrow.day, 9, 30),
            label="Dog walker",
        ),
    )
    # 09:30 is not a whole hour: the code starts at 10:00, later, never earlier.
    assert code.adjusted
    assert code.requested_start == local(tomorrow.year, tomorrow.month, tomorrow.day, 9, 30)
    assert code.start == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, tzinfo=BERLIN).astimezone(UTC)
    assert code.end > code.start + timedelta(days=6)


def test_discovery_by_address(
    new_device: Callable[..., Device], start_lock: Callable[..., LockProcess]
) -> None:
    lock = start_lock("Front door")
    other = start_lock("Garage")
    client = new_device("owner").client
    options = t.DiscoveryOptions(timeout_ms=500, mdns=False, bluetooth=False, addresses=[lock.address, "127.0.0.1:1"])
    # Not paired: something answers, but which lock it is stays unknown.
    found = run(client.discover_locks(options))
    assert found.unreachable == ["127.0.0.1:1"]
    assert found.locks == [
        t.DiscoveredLock(
            lock_id=None,
            name=None,
            known=False,
            paired=False,
            routes=[t.LockRoute.NETWORK(address=lock.address, announced=False)],
        )
    ]
    paired = pair(client, lock)
    hand_added = new_lock(client, "Shed")
    options.addresses = [lock.address, other.address]
    found = run(client.discover_locks(options))
    assert found.unreachable == []
    by_id = {entry.lock_id: entry for entry in found.locks}
    assert by_id[paired.lock.id] == t.DiscoveredLock(
        lock_id=paired.lock.id,
        name="Front door",
        known=True,
        paired=True,
        routes=[t.LockRoute.NETWORK(address=lock.address, announced=False)],
    )
    assert by_id[hand_added.id] == t.DiscoveredLock(
        lock_id=hand_added.id, name="Shed", known=True, paired=False, routes=[]
    )
    assert by_id[None].routes == [t.LockRoute.NETWORK(address=other.address, announced=False)]
    # With no addresses given, the paired lock's last address is tried.
    found = run(client.discover_locks(t.DiscoveryOptions(timeout_ms=200, mdns=False, bluetooth=False)))
    assert {entry.lock_id: entry for entry in found.locks}[paired.lock.id].routes == [
        t.LockRoute.NETWORK(address=lock.address, announced=False)
    ]


def test_a_bluetooth_transport_written_in_python(device: Device, start_lock: Callable[..., LockProcess]) -> None:
    lock = start_lock("Back door")
    client = device.client
    ble = TcpBleTransport({DEVICE: lock.address}, mtu=20)
    with pytest.raises(t.TesseraError.Bluetooth):
        run(client.pair_lock_ble(DEVICE, SETUP_CODE))
    client.set_ble_transport(ble)

    found = run(client.discover_locks(t.DiscoveryOptions(timeout_ms=300, mdns=False, bluetooth=True)))
    assert ble.calls[0] == ("scan", "300")
    assert found.locks == [
        t.DiscoveredLock(
            lock_id=None,
            name="Tessera lock",
            known=False,
            paired=False,
            routes=[t.LockRoute.BLUETOOTH(device_id=DEVICE)],
        )
    ]

    paired = run(client.pair_lock_ble(DEVICE, SETUP_CODE))
    assert paired.added and paired.lock.name == "Back door" and paired.offline_codes
    route = client.local_route(paired.lock.id)
    assert route is not None and route.address is None and route.ble_device == DEVICE
    # The protocol ran over Python's writes, in pieces no longer than the link takes.
    assert ble.count("connect") == 1 and ble.count("disconnect") == 1
    assert len(ble.writes) > 1 and max(len(w) for w in ble.writes) <= 20

    code = window_now(client, paired.lock.id, "Bluetooth guest")
    delivery = run(client.deliver(paired.lock.id))
    assert delivery.route == t.DeliveryRoute.LOCAL and delivery.local.set == 1
    assert set_on_lock(client, code.id)
    assert ble.count("connect") == 2 and ble.count("disconnect") == 2
    assert lock.keypad(client.reveal_pin(code.id)) == "open"

    offline = client.issue_offline_code(
        paired.lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.HOURS2, label="Courier")
    )
    assert lock.keypad(offline.pin.digits()) == "open"

    found = run(client.discover_locks(t.DiscoveryOptions(timeout_ms=300, mdns=False, bluetooth=True)))
    assert found.locks == [
        t.DiscoveredLock(
            lock_id=paired.lock.id,
            name="Back door",
            known=True,
            paired=True,
            routes=[t.LockRoute.BLUETOOTH(device_id=DEVICE)],
        )
    ]

    # The platform's failures become errors, never crashes.
    ble.fail_connect = True
    with pytest.raises(t.TesseraError.LockUnreachable) as raised:
        run(client.push_to_lock(paired.lock.id))
    assert "the device went away" in raised.value.reason
    delivery = run(client.deliver(paired.lock.id))
    assert delivery.route == t.DeliveryRoute.QUEUED and "the device went away" in delivery.local_error
    # A scan that fails hides nothing else: the known lock is still listed, and the
    # failure is said.
    ble.fail_scan = True
    found = run(client.discover_locks(t.DiscoveryOptions(timeout_ms=100, mdns=False, bluetooth=True)))
    assert [lock.lock_id for lock in found.locks] == [paired.lock.id]
    assert found.bluetooth_error is not None and "Bluetooth is off" in found.bluetooth_error
    assert found.mdns_error is None
    client.set_ble_transport(None)
    with pytest.raises(t.TesseraError.Bluetooth):
        run(client.push_to_lock(paired.lock.id))


# Every call that takes a lock id, with a malformed one in its place.
LOCK_ID_CALLS: dict[str, Callable[[t.TesseraClient, str], object]] = {
    "local_route": lambda c, id: c.local_route(id),
    "lock_log": lambda c, id: c.lock_log(id, 10),
    "offline_codes": lambda c, id: c.offline_codes(id),
    "issue_offline_code": lambda c, id: c.issue_offline_code(
        id, t.OfflineCodeRequest(offline_class=t.OfflineClass.HOUR1, label="X")
    ),
    "lock_info": lambda c, id: run(c.lock_info(id)),
    "push_to_lock": lambda c, id: run(c.push_to_lock(id)),
    "deliver": lambda c, id: run(c.deliver(id)),
    "read_lock_events": lambda c, id: run(c.read_lock_events(id)),
    "sync_lock_clock": lambda c, id: run(c.sync_lock_clock(id)),
    "rotate_offline_epoch": lambda c, id: run(c.rotate_offline_epoch(id)),
    "refresh_offline_secret": lambda c, id: run(c.refresh_offline_secret(id)),
}


@pytest.mark.parametrize("name", LOCK_ID_CALLS.keys())
def test_a_malformed_lock_id_is_invalid_input_id(device: Device, name: str) -> None:
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        LOCK_ID_CALLS[name](device.client, "not-a-lock")
    assert (raised.value.field, raised.value.reason) == ("id", '"not-a-lock" is not a UUID')


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("lock_log", t.TesseraError.NotFound),
        ("offline_codes", t.TesseraError.NotFound),
        ("issue_offline_code", t.TesseraError.NotFound),
        ("deliver", t.TesseraError.NotFound),
        ("lock_info", t.TesseraError.NotPaired),
        ("push_to_lock", t.TesseraError.NotPaired),
        ("read_lock_events", t.TesseraError.NotPaired),
        ("sync_lock_clock", t.TesseraError.NotPaired),
        ("rotate_offline_epoch", t.TesseraError.NotPaired),
        ("refresh_offline_secret", t.TesseraError.NotPaired),
    ],
)
def test_an_unknown_lock(device: Device, name: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        LOCK_ID_CALLS[name](device.client, UNKNOWN_ID)
    if error is t.TesseraError.NotFound:
        assert (raised.value.what, raised.value.id) == ("lock", UNKNOWN_ID)
    else:
        assert raised.value.lock_id == UNKNOWN_ID
    assert device.client.local_route(UNKNOWN_ID) is None


def test_a_lock_not_paired_here(device: Device) -> None:
    client = device.client
    lock = new_lock(client, "Shed")
    with pytest.raises(t.TesseraError.OfflineCodesUnavailable) as raised:
        client.issue_offline_code(lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.HOUR1, label="X"))
    assert raised.value.lock_id == lock.id
    with pytest.raises(t.TesseraError.NotPaired):
        run(client.push_to_lock(lock.id))
    delivery = run(client.deliver(lock.id))
    assert delivery.route == t.DeliveryRoute.QUEUED and delivery.local is None
    assert delivery.local_error == "not paired on this device"
    assert client.offline_codes(lock.id) == [] and client.lock_log(lock.id, 10) == []


@pytest.mark.parametrize("setup_code", ["", "   "])
def test_an_empty_setup_code_is_invalid_input(
    device: Device, start_lock: Callable[..., LockProcess], setup_code: str
) -> None:
    lock = start_lock()
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        run(device.client.pair_lock(lock.address, setup_code))
    assert (raised.value.field, raised.value.reason) == ("setup_code", "must not be empty")
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        run(device.client.pair_lock_ble(DEVICE, setup_code))
    assert raised.value.field == "setup_code"
    # Nothing reached the lock: no failed pairing counted against it.
    paired = pair(device.client, lock)
    activities = [entry.activity for entry in run(device.client.read_lock_events(paired.lock.id))]
    assert t.LockActivity.PAIRING_FAILED() not in activities


def test_bad_addresses_and_options(device: Device) -> None:
    client = device.client
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        run(client.pair_lock("", SETUP_CODE))
    assert raised.value.field == "address"
    with pytest.raises(t.TesseraError.LockUnreachable):
        run(client.pair_lock("127.0.0.1:1", SETUP_CODE))
    with pytest.raises(t.TesseraError.LockUnreachable):
        run(client.pair_lock("no-such-host.invalid:7541", SETUP_CODE))
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        run(client.discover_locks(t.DiscoveryOptions(timeout_ms=3_600_000)))
    assert raised.value.field == "timeout_ms"
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        run(client.discover_locks(t.DiscoveryOptions(mdns=False, bluetooth=False, addresses=[""])))
    assert raised.value.field == "addresses"
    assert client.locks() == []


def test_bad_offline_requests(device: Device, start_lock: Callable[..., LockProcess]) -> None:
    lock = start_lock()
    client = device.client
    paired = pair(client, lock)

    def issue(start: t.LocalDateTime | None, label: str = "Guest") -> t.OfflineCode:
        return client.issue_offline_code(
            paired.lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.DAY1, start=start, label=label)
        )

    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        issue(local(2031, 13, 1, 9))
    assert raised.value.field == "date"
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        issue(local(2031, 1, 1, 24))
    assert raised.value.field == "time"
    # Its first use would have had to come before now.
    with pytest.raises(t.TesseraError.InvalidInput) as raised:
        issue(local(2021, 1, 1, 9))
    assert raised.value.field == "start"
    with pytest.raises(t.TesseraError.InvalidInput):
        issue(None, label="")
    # Four codes per start hour and class: then the quota is exhausted.
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    start = local(tomorrow.year, tomorrow.month, tomorrow.day, 8)
    codes = []
    with pytest.raises(t.TesseraError.OfflineQuotaExhausted) as raised:
        for _ in range(5):
            codes.append(issue(start))
    assert raised.value.slots == 4
    assert 1 <= len(codes) <= 4 and codes[-1].remaining == 0
    assert len({code.pin.digits() for code in codes}) == len(codes)


def test_no_pin_in_what_python_prints(device: Device, start_lock: Callable[..., LockProcess]) -> None:
    lock = start_lock()
    client = device.client
    paired = pair(client, lock)
    code = client.issue_offline_code(
        paired.lock.id, t.OfflineCodeRequest(offline_class=t.OfflineClass.HOURS8, label="Courier")
    )
    pin = code.pin.digits()
    issued = client.offline_codes(paired.lock.id)
    window = window_now(client, paired.lock.id)
    delivery = run(client.deliver(paired.lock.id))
    window_pin = client.reveal_pin(window.id)
    printed = [code, code.pin, issued, issued[0], issued[0].pin, paired, delivery, client.local_route(paired.lock.id)]
    for thing in printed:
        for text in (str(thing), repr(thing)):
            assert pin not in text and window_pin not in text and SETUP_CODE not in text, text
    for record in device.logger.records:
        assert pin not in record.message and window_pin not in record.message
        assert SETUP_CODE not in record.message
    with pytest.raises(t.TesseraError.PairingRefused) as raised:
        run(client.pair_lock(lock.address, "99999999"))
    assert "99999999" not in str(raised.value)
