"""Secrets stay secret across the FFI: the password, the cloud's tokens and every PIN
never reach the platform log, records or error messages; only reveal_pin shows digits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import tessera_ffi as t
from support import (
    PASSWORD,
    Cloud,
    CollectingLogger,
    Device,
    RaisingCodesListener,
    new_lock,
    request,
    run,
    wait_until,
)

EMAIL = "secretive@example.com"
ACCESS_CODE_FIELDS = {
    "id",
    "lock_id",
    "label",
    "pin_length",
    "schedule",
    "allow_widening",
    "max_uses",
    "status",
    "sync",
    "created_at",
    "updated_at",
    "version",
}


def eight_digits(label: str) -> t.CodeRequest:
    code_request = request(label)
    code_request.pin = t.PinChoice.GENERATE(length=8)
    return code_request


def test_an_access_code_carries_no_pin(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    code = client.create_code(lock.id, request("Chosen", pin="48291657"))
    assert set(vars(code)) == ACCESS_CODE_FIELDS
    assert code.pin_length == 8
    assert client.reveal_pin(code.id) == "48291657"
    for shown in (repr(code), str(code), repr(client.codes(lock.id)), str(client.code(code.id))):
        assert "48291657" not in shown
    generated = client.create_code(lock.id, eight_digits("Generated"))
    pin = client.reveal_pin(generated.id)
    assert len(pin) == 8 and pin.isdigit()
    assert pin not in repr(generated) and pin not in str(generated)


def test_pin_errors_do_not_repeat_the_pin(device: Device) -> None:
    client = device.client
    lock = new_lock(client)
    with pytest.raises(t.TesseraError.WeakPin) as weak:
        client.create_code(lock.id, request("Guest", pin="98765432"))
    assert weak.value.rule == t.WeakPinRule.SEQUENCE
    first = client.create_code(lock.id, request("Guest", pin="48291657"))
    with pytest.raises(t.TesseraError.PinConflict) as conflict:
        client.create_code(lock.id, request("Other", pin="48291657"))
    assert conflict.value.other_code == first.id
    for error, pin in [(weak.value, "98765432"), (conflict.value, "48291657")]:
        assert pin not in str(error) and pin not in repr(error)


def test_the_log_never_holds_the_password_tokens_or_pins(
    start_cloud: Callable[..., Cloud], new_device: Callable[..., Device]
) -> None:
    # Access tokens live one second: every call refreshes, so many tokens pass by.
    cloud = start_cloud("--access-token-ttl", "1")
    logger = CollectingLogger()
    phone = new_device("phone", logger)
    client = phone.client
    run(client.sign_up(cloud.url, EMAIL, PASSWORD, "Pixel"))
    lock = new_lock(client)
    # A failing listener: its failures are logged with their reason.
    phone.handles.append(client.observe_codes(lock.id, RaisingCodesListener(RuntimeError("listener broke"))))

    pins = []
    for number in range(4):
        code = client.create_code(lock.id, eight_digits(f"Guest {number}"))
        pins.append(client.reveal_pin(code.id))
        run(client.sync())
    chosen = client.create_code(lock.id, request("Chosen", pin="48291657"))
    pins.append(client.reveal_pin(chosen.id))
    with pytest.raises(t.TesseraError.WeakPin):
        client.create_code(lock.id, request("Weak", pin="1234"))
    run(client.sync())

    tablet = new_device("tablet", logger)
    with pytest.raises(t.TesseraError.InvalidCredentials) as wrong:
        run(tablet.client.log_in(cloud.url, EMAIL, PASSWORD + "!", None))
    assert PASSWORD not in str(wrong.value)
    run(tablet.client.log_in(cloud.url, EMAIL, PASSWORD, None))
    run(tablet.client.sync())
    assert [tablet.client.reveal_pin(c.id) for c in tablet.client.codes(lock.id)] == pins

    # Signing out while the cloud is away is logged (the cloud could not confirm it).
    cloud.stop()
    run(client.log_out())
    run(tablet.client.log_out())

    wait_until(
        lambda: any("did not confirm the logout" in record.message for record in logger.records),
        "the logout to be logged",
    )
    records = logger.records
    assert any(r.target == "tessera_ffi::client" and "listener broke" in r.message for r in records)
    tokens = phone.store.tokens() | tablet.store.tokens()
    assert len(tokens) >= 6, tokens  # two sign-ins and refreshes: several of each kind
    assert {token[:4] for token in tokens} == {"tsa_", "tsr_"}
    logged = "\n".join(f"{r.level} {r.target} {r.message}" for r in records)
    for secret in [PASSWORD, *pins, *tokens]:
        assert secret not in logged, f"a secret is in the log:\n{logged}"
    for marker in ("tsa_", "tsr_", "tsd_"):
        assert logged.count(marker) == logged.count(marker + "<redacted>")
