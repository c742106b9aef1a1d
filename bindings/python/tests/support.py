"""What the Python suite shares: a real tessera-cloud process, the platform pieces a
Python app implements (a SecureStore, a Logger, listeners) and waiting with a
deadline instead of sleeping."""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import tessera_ffi as t

T = TypeVar("T")

PASSWORD = "correct horse battery staple"
# How long anything that happens in the background may take before a test fails.
TIMEOUT = 20.0


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Awaits one of the client's async calls on a fresh asyncio loop, with a deadline."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def wait_until(
    condition: Callable[[], T],
    what: str | Callable[[], str],
    timeout: float = TIMEOUT,
) -> T:
    """Polls `condition` until it returns something truthy; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what if isinstance(what, str) else what()}")
        time.sleep(0.01)


def listeners_held_by_rust() -> int:
    """Python listeners the library holds: the generated module's handle maps (private,
    but the only place that knows)."""
    maps = [
        t._UniffiFfiConverterTypeCodesListener._handle_map,
        t._UniffiFfiConverterTypeSyncStatusListener._handle_map,
    ]
    return sum(len(handle_map._map) for handle_map in maps)


# Listeners the generated code lowered for a call whose other argument then failed to
# lift: nothing frees them (see test_bad_input), and Rust never calls them.
LEAKED_LISTENERS: list[str] = []


def start_listening(
    command: list[str], log_path: Path, prefix: str, thread_name: str
) -> tuple[subprocess.Popen[str], str]:
    """Starts `command` (stderr appended to `log_path`) and waits for its first stdout
    line, `prefix` and an address; returns the process and the address. Kills the
    process and fails if that line does not come within 30 s or says something else."""
    binary = command[0]
    log = log_path.open("a")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
    log.close()
    first_line: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for number, line in enumerate(process.stdout):
            if number == 0:
                first_line.put(line.strip())
        first_line.put("")  # the process ended (or closed stdout)

    def kill() -> None:
        process.kill()
        process.wait(timeout=30)

    threading.Thread(target=drain, name=thread_name, daemon=True).start()
    try:
        line = first_line.get(timeout=30)
    except queue.Empty:
        kill()
        raise AssertionError(f"{binary} printed nothing within 30 s") from None
    if not line.startswith(prefix):
        kill()
        raise AssertionError(f"unexpected first line {line!r} from {binary}; its log:\n{log_path.read_text()}")
    return process, line.removeprefix(prefix)


class Cloud:
    """A real `tessera-cloud serve` process on a loopback port."""

    def __init__(self, binary: Path, directory: Path, extra: list[str] | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.db = directory / "cloud.db"
        self.extra = extra or []
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Cloud:
        assert self.process is None, "the cloud is already running"
        self.process, address = start_listening(
            [str(self.binary), "serve", "--bind", f"127.0.0.1:{self.port}", "--db", str(self.db), *self.extra],
            self.directory / "cloud.log",
            "listening on http://",
            "cloud-stdout",
        )
        self.port = int(address.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        """Kills the process, as a crash or a power cut would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self) -> None:
        """Starts it again on the same port with the same database."""
        self.stop()
        self.start()


SETUP_CODE = "12345678"


class LockProcess:
    """A real `tessera-lock serve` process on a loopback port, not announced over mDNS
    (phones reach it by address), with its control socket for the keypad."""

    def __init__(self, binary: Path, directory: Path, name: str, zone: str, setup_code: str = SETUP_CODE) -> None:
        self.binary = binary
        self.directory = directory
        self.state = directory / "state"
        # A Unix socket's path must stay under ~100 bytes: pytest's folders are long.
        self.control = Path(tempfile.mkdtemp(prefix="tl-")) / "control"
        self.name = name
        self.zone = zone
        self.setup_code = setup_code
        self.address = ""
        self.process: subprocess.Popen[str] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> LockProcess:
        assert self.process is None, "the lock is already running"
        self.process, self.address = start_listening(
            [
                str(self.binary),
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--no-announce",
                "--control",
                str(self.control),
                "--setup-code",
                self.setup_code,
                "--state",
                str(self.state),
                "--name",
                self.name,
                "--zone",
                self.zone,
            ],
            self.directory / "lock.log",
            "listening on ",
            "lock-stdout",
        )
        return self

    def keypad(self, digits: str) -> str:
        """Types `digits` and Enter on the lock's keypad: `open`, `refused` or `locked out ...`."""
        done = subprocess.run(
            [str(self.binary), "keypad", "--control", str(self.control), digits],
            capture_output=True,
            text=True,
            timeout=30,
        )
        answer = done.stdout.strip()
        assert done.returncode == (0 if answer == "open" else 1), (done.returncode, answer, done.stderr)
        return answer

    def status(self) -> dict[str, Any]:
        done = subprocess.run(
            [str(self.binary), "status", "--control", str(self.control)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(done.stdout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


class TcpBleTransport(t.BleTransport):
    """The app's Bluetooth, written in Python: each "device" is a lock reached over a
    TCP socket standing in for the GATT link (writes go to the socket, whatever the
    lock sends comes back as notifications). Records every call."""

    def __init__(self, devices: dict[str, str], mtu: int = 20) -> None:
        self.devices = devices  # device id -> host:port
        self.mtu = mtu
        self.calls: list[tuple[str, str]] = []
        self.writes: list[bytes] = []
        self.fail_connect = False
        self.fail_scan = False
        self._sockets: dict[str, socket.socket] = {}
        self._lock = threading.Lock()

    def scan(self, timeout_ms: int) -> list[t.BleDevice]:
        with self._lock:
            self.calls.append(("scan", str(timeout_ms)))
        if self.fail_scan:
            raise t.BleError.Failed(reason="Bluetooth is off")
        return [t.BleDevice(id=device, name="Tessera lock", lock_id=None, rssi=-60) for device in self.devices]

    def connect(self, device_id: str, inbox: t.BleInbox) -> int:
        with self._lock:
            self.calls.append(("connect", device_id))
        if self.fail_connect:
            raise t.BleError.Failed(reason="the device went away")
        if device_id not in self.devices:
            raise t.BleError.Failed(reason=f"no device {device_id}")
        host, port = self.devices[device_id].rsplit(":", 1)
        connection = socket.create_connection((host, int(port)), timeout=10)
        connection.settimeout(None)
        with self._lock:
            self._sockets[device_id] = connection

        def notify() -> None:
            while True:
                try:
                    data = connection.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    inbox.closed()
                    return
                # GATT notifications are small: hand them over in MTU-sized pieces.
                for at in range(0, len(data), self.mtu):
                    inbox.deliver(data[at : at + self.mtu])

        threading.Thread(target=notify, name=f"ble-{device_id}", daemon=True).start()
        return self.mtu

    def write(self, device_id: str, bytes: bytes) -> None:  # noqa: A002 - the generated name
        assert len(bytes) <= self.mtu, f"a write of {len(bytes)} bytes on a {self.mtu}-byte link"
        with self._lock:
            self.writes.append(bytes)
            connection = self._sockets.get(device_id)
        if connection is None:
            raise t.BleError.Failed(reason=f"{device_id} is not connected")
        connection.sendall(bytes)

    def disconnect(self, device_id: str) -> None:
        with self._lock:
            self.calls.append(("disconnect", device_id))
            connection = self._sockets.pop(device_id, None)
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def count(self, call: str) -> int:
        with self._lock:
            return sum(1 for name, _ in self.calls if name == call)


class DictSecureStore(t.SecureStore):
    """The platform keychain, as a dict. Keeps every value it was given, so a test can
    check where the secrets it held went."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}
        self.history: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self.entries.get(key)

    def put(self, key: str, value: bytes) -> None:
        with self._lock:
            self.entries[key] = bytes(value)
            self.history.append((key, bytes(value)))

    def delete(self, key: str) -> None:
        with self._lock:
            self.entries.pop(key, None)

    def tokens(self) -> set[str]:
        """Every access and refresh token the session ever stored here."""
        found = set()
        with self._lock:
            for key, value in self.history:
                if key == "tessera.session":
                    session = json.loads(value)
                    found.update({session["access_token"], session["refresh_token"]})
        return found


class CollectingLogger(t.Logger):
    """The platform log: keeps every record."""

    def __init__(self) -> None:
        self._records: list[t.LogRecord] = []
        self._lock = threading.Lock()

    def log(self, record: t.LogRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[t.LogRecord]:
        with self._lock:
            return list(self._records)


class RecordingCodesListener(t.CodesListener):
    """Keeps every list of codes it hears, and lets a test wait for one."""

    def __init__(self) -> None:
        self._seen: list[list[t.AccessCode]] = []
        self._changed = threading.Condition()

    def on_codes(self, codes: list[t.AccessCode]) -> None:
        with self._changed:
            self._seen.append(codes)
            self._changed.notify_all()

    @property
    def seen(self) -> list[list[t.AccessCode]]:
        with self._changed:
            return list(self._seen)

    def wait_for(self, condition: Callable[[list[t.AccessCode]], bool], what: str) -> list[t.AccessCode]:
        """The first list heard (now or later) that satisfies `condition`."""
        checked = 0
        found: list[list[t.AccessCode]] = []

        def match() -> bool:
            nonlocal checked
            for codes in self._seen[checked:]:
                checked += 1
                if condition(codes):
                    found.append(codes)
                    return True
            return False

        with self._changed:
            if not self._changed.wait_for(match, timeout=TIMEOUT):
                raise AssertionError(f"timed out waiting for {what}; heard {self._seen[-3:]}")
            return found[0]

    def wait_for_latest(self, expected: list[t.AccessCode]) -> None:
        """Waits until the last list heard equals `expected`."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._seen) and self._seen[-1] == expected, timeout=TIMEOUT):
                raise AssertionError(f"the listener never heard {expected}; last: {self._seen[-1:]}")


class RaisingCodesListener(t.CodesListener):
    """A listener that fails on every call (and counts the calls)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[list[t.AccessCode]] = []

    def on_codes(self, codes: list[t.AccessCode]) -> None:
        self.calls.append(codes)
        raise self.error


class RecordingSyncListener(t.SyncStatusListener):
    def __init__(self) -> None:
        self._seen: list[t.SyncStatus] = []
        self._lock = threading.Lock()

    def on_sync_status(self, status: t.SyncStatus) -> None:
        with self._lock:
            self._seen.append(status)

    @property
    def seen(self) -> list[t.SyncStatus]:
        with self._lock:
            return list(self._seen)


@dataclass
class Device:
    """One phone: a client with its own data folder and keychain."""

    client: t.TesseraClient
    store: DictSecureStore
    logger: CollectingLogger
    data_dir: Path
    handles: list[t.ListenerHandle] = field(default_factory=list)


def open_device(data_dir: Path, logger: CollectingLogger | None = None, store: DictSecureStore | None = None) -> Device:
    store = store or DictSecureStore()
    logger = logger or CollectingLogger()
    client = t.TesseraClient(t.ClientConfig(data_dir=str(data_dir), extra_root_certificates=[]), store, logger)
    return Device(client=client, store=store, logger=logger, data_dir=data_dir)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> t.LocalDateTime:
    return t.LocalDateTime(year=year, month=month, day=day, hour=hour, minute=minute)


def new_lock(
    client: t.TesseraClient, name: str = "Front door", zone: str = "Europe/Berlin", **capabilities: Any
) -> t.Lock:
    caps = t.default_lock_capabilities()
    for key, value in capabilities.items():
        setattr(caps, key, value)
    return client.add_lock(t.NewLock(name=name, time_zone=zone, capabilities=caps))


def request(label: str, schedule: t.Schedule | None = None, pin: str | None = None) -> t.CodeRequest:
    """A code request; the PIN is generated unless given."""
    choice = t.PinChoice.CHOSEN(digits=pin) if pin is not None else t.PinChoice.GENERATE(length=None)
    return t.CodeRequest(
        label=label,
        schedule=schedule or t.Schedule.PERMANENT(),
        pin=choice,
        max_uses=None,
        allow_widening=False,
    )
