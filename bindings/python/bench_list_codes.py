#!/usr/bin/env python3
"""The Python side of the FFI benchmark: list the 1,000 codes of a lock through the
generated bindings (`TesseraClient.codes`), as bindings/ffi/examples/bench_list_codes.rs
does from Rust. No cloud needed.

    python3 bindings/python/bench_list_codes.py [RUNS]

The module and library come from TESSERA_PYTHON_BINDINGS (default build/bindings/python,
what `scripts/bindings` writes). Measure the release library: generate the bindings
with `PROFILE=release scripts/bindings` (into build/bindings-release) and point
TESSERA_PYTHON_BINDINGS at build/bindings-release/python; scripts/bench-ffi does both.
Prints one line: `python  list 1000 codes: median X.XXX ms (n=RUNS)`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

CODES = 1_000
WARM_UP = 10
DEFAULT_RUNS = 50

REPO = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("TESSERA_PYTHON_BINDINGS", REPO / "build" / "bindings" / "python")).resolve()
if not (BINDINGS / "tessera_ffi.py").is_file():
    sys.exit(f"no generated tessera_ffi.py in {BINDINGS}: run scripts/bindings (PROFILE=release for figures)")
sys.path.insert(0, str(BINDINGS))

import tessera_ffi as t  # noqa: E402


class MemoryStore(t.SecureStore):
    """The platform keychain, in memory."""

    def __init__(self) -> None:
        self._entries: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, value: bytes) -> None:
        with self._lock:
            self._entries[key] = bytes(value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_RUNS
    if runs < 1:
        sys.exit("RUNS must be at least 1")
    print(f"library: {BINDINGS / 'libtessera_ffi.so'}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as data_dir:
        client = t.TesseraClient(t.ClientConfig(data_dir=data_dir, extra_root_certificates=[]), MemoryStore(), None)
        capabilities = t.default_lock_capabilities()
        capabilities.max_codes = 2_000
        lock = client.add_lock(t.NewLock(name="Bench door", time_zone="Europe/Berlin", capabilities=capabilities))
        for number in range(CODES):
            client.create_code(
                lock.id,
                t.CodeRequest(
                    label=f"Guest {number}",
                    schedule=t.Schedule.PERMANENT(),
                    pin=t.PinChoice.GENERATE(length=8),
                    max_uses=None,
                    allow_widening=False,
                ),
            )

        for _ in range(WARM_UP):
            codes = client.codes(lock.id)
            if len(codes) != CODES:
                sys.exit(f"listed {len(codes)} codes, expected {CODES}")
        millis = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            client.codes(lock.id)
            millis.append((time.perf_counter_ns() - start) / 1e6)
    print(f"python  list {CODES} codes: median {statistics.median(millis):.3f} ms (n={runs})")


if __name__ == "__main__":
    main()
