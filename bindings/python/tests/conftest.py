"""Puts the generated module on the path and provides real clouds and fresh devices.

The module and its library come from `scripts/bindings` (build/bindings/python), or
from the folder in TESSERA_PYTHON_BINDINGS; the cloud binary from TESSERA_CLOUD_BIN
(default target/debug/tessera-cloud), the lock binary from TESSERA_LOCK_BIN (default
target/debug/tessera-lock)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BINDINGS = Path(os.environ.get("TESSERA_PYTHON_BINDINGS", REPO / "build" / "bindings" / "python")).resolve()

if not (BINDINGS / "tessera_ffi.py").is_file():
    raise pytest.UsageError(f"no generated tessera_ffi.py in {BINDINGS}: run scripts/bindings first")
sys.path.insert(0, str(BINDINGS))

from support import (  # noqa: E402
    LEAKED_LISTENERS,
    Cloud,
    CollectingLogger,
    Device,
    LockProcess,
    listeners_held_by_rust,
    open_device,
    wait_until,
)


@pytest.fixture(autouse=True)
def listeners_are_released() -> Iterator[None]:
    """After each test (its handles cancelled or dropped), the library lets go of every
    listener. Besides checking that cancelling works, this keeps a Rust thread from
    calling into Python while the interpreter shuts down, which aborts the process."""
    yield
    wait_until(
        lambda: listeners_held_by_rust() == len(LEAKED_LISTENERS),
        lambda: f"the library to release every listener; it holds {listeners_held_by_rust()}",
    )


def built_binary(variable: str, name: str, build: str) -> Path:
    """The binary named by the environment `variable` (relative to the repository),
    else target/debug/`name`; a usage error, saying to run `build`, if it is missing."""
    binary = Path(os.environ.get(variable, REPO / "target" / "debug" / name))
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.is_file():
        raise pytest.UsageError(f"{binary} does not exist: {build} (or set {variable})")
    return binary


@pytest.fixture(scope="session")
def cloud_bin() -> Path:
    return built_binary("TESSERA_CLOUD_BIN", "tessera-cloud", "cargo build -p tessera-cloud --bin tessera-cloud")


@pytest.fixture
def start_cloud(cloud_bin: Path, tmp_path: Path) -> Iterator[Callable[..., Cloud]]:
    """Starts real clouds (extra `serve` flags allowed); every one is killed at the end."""
    clouds: list[Cloud] = []

    def start(*extra: str) -> Cloud:
        cloud = Cloud(cloud_bin, tmp_path / f"cloud-{len(clouds)}", list(extra)).start()
        clouds.append(cloud)
        return cloud

    yield start
    for cloud in clouds:
        cloud.stop()


@pytest.fixture
def cloud(start_cloud: Callable[..., Cloud]) -> Cloud:
    """A real tessera-cloud on a loopback port, killed after the test."""
    return start_cloud()


@pytest.fixture
def new_device(tmp_path: Path) -> Iterator[Callable[..., Device]]:
    """Opens clients, each in its own data folder with its own dict keychain."""
    devices: list[Device] = []

    def make(name: str = "phone", logger: CollectingLogger | None = None) -> Device:
        device = open_device(tmp_path / f"device-{name}", logger=logger)
        devices.append(device)
        return device

    yield make
    for device in devices:
        for handle in device.handles:
            handle.cancel()


@pytest.fixture
def device(new_device: Callable[..., Device]) -> Device:
    """One signed-out client with a lock-free store."""
    return new_device()


@pytest.fixture(scope="session")
def lock_bin() -> Path:
    return built_binary("TESSERA_LOCK_BIN", "tessera-lock", "cargo build -p tessera-lock")


@pytest.fixture
def start_lock(lock_bin: Path, tmp_path: Path) -> Iterator[Callable[..., LockProcess]]:
    """Starts real reference locks (`tessera-lock serve` on a loopback port, no mDNS,
    setup code 12345678); every one is killed at the end."""
    locks: list[LockProcess] = []

    def start(name: str = "Front door", zone: str = "Europe/Berlin") -> LockProcess:
        lock = LockProcess(lock_bin, tmp_path / f"lock-{len(locks)}", name, zone).start()
        locks.append(lock)
        return lock

    yield start
    for lock in locks:
        lock.stop()
