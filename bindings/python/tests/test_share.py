"""Share links through the FFI, against a real tessera-cloud: the owner's share_code,
the visitor's open_share_link on a second client with no account, view limits,
revoking a link and its code, a self-contained link with the cloud gone, damaged
links, and no PIN or link secret in anything a Python app prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import tessera_ffi as t
from support import PASSWORD, Cloud, Device, local, new_lock, request, run

BERLIN = ZoneInfo("Europe/Berlin")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Shared:
    """An owner signed in on `cloud` with a window code on a Berlin lock."""

    owner: t.TesseraClient
    lock: t.Lock
    code: t.AccessCode
    pin: str
    start: datetime
    end: datetime


def owner_with_code(cloud: Cloud, new_device: Callable[..., Device]) -> Shared:
    """Signs up, adds "Front door" (Berlin) and a window code from 10:00 tomorrow to
    18:00 the day after, Berlin time (clear of any daylight-saving gap)."""
    owner = new_device("owner").client
    run(owner.sign_up(cloud.url, "host@example.com", PASSWORD, "Host phone"))
    lock = new_lock(owner, "Front door", "Europe/Berlin")
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    after = tomorrow + timedelta(days=1)
    schedule = t.Schedule.WINDOW(
        start=local(tomorrow.year, tomorrow.month, tomorrow.day, 10),
        end=local(after.year, after.month, after.day, 18),
    )
    code_request = request("Anna", schedule)
    code_request.pin = t.PinChoice.GENERATE(length=8)
    code = owner.create_code(lock.id, code_request)
    pin = owner.reveal_pin(code.id)
    assert len(pin) == 8 and pin.isdigit()
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, tzinfo=BERLIN).astimezone(UTC)
    end = datetime(after.year, after.month, after.day, 18, tzinfo=BERLIN).astimezone(UTC)
    return Shared(owner=owner, lock=lock, code=code, pin=pin, start=start, end=end)


def visitor(new_device: Callable[..., Device]) -> t.TesseraClient:
    """A second client: a fresh data folder, never signed in."""
    client = new_device("visitor").client
    assert client.account() is None
    return client


def fragment(url: str) -> str:
    """The link's secret part: everything after '#'."""
    assert url.count("#") == 1, url
    return url.split("#", 1)[1]


def unfolded(ics: str) -> str:
    """An .ics text with its folded lines joined (RFC 5545 folds at 75 octets)."""
    return ics.replace("\r\n ", "").replace("\r\n\t", "")


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tamper(url: str, at: int, alphabet: str = BASE64URL) -> str:
    """`url` with the fragment's character at index `at` (may be negative) replaced by
    another one from `alphabet`."""
    head, secret = url.split("#", 1)
    index = at % len(secret)
    replacement = next(c for c in alphabet if c != secret[index])
    return f"{head}#{secret[:index]}{replacement}{secret[index + 1 :]}"


def test_a_hosted_link_opens_as_often_as_allowed_and_shows_no_pin(
    cloud: Cloud, new_device: Callable[..., Device]
) -> None:
    shared = owner_with_code(cloud, new_device)
    owner, pin = shared.owner, shared.pin

    link = run(
        owner.share_code(
            shared.code.id,
            t.ShareRequest(max_views=2, instructions="Key box left of the door", host_note="Welcome, Anna!"),
        )
    )
    url = link.url()
    assert url.startswith(cloud.url + "/s/"), url
    assert link.id() is not None
    assert url.startswith(f"{cloud.url}/s/{link.id()}#"), url
    assert pin not in url
    assert link.max_views() == 2
    assert link.expires_at() == shared.end  # a link lasts as long as its code by default

    text = link.share_text()
    assert url in text and "Front door" in text and "Welcome, Anna!" in text
    assert pin not in text
    svg = link.qr_svg()
    assert "<svg" in svg and pin not in svg
    png = link.qr_png()
    assert isinstance(png, bytes) and png.startswith(PNG_SIGNATURE) and len(png) > 100
    ics = unfolded(link.calendar())
    assert "BEGIN:VCALENDAR" in ics and ics.count("BEGIN:VEVENT") == 1
    assert "Key box left of the door" in ics
    assert pin not in ics

    # The visitor: no account, no cloud configured; the link says where to go.
    guest = visitor(new_device)
    for _ in range(2):
        opened = run(guest.open_share_link(url))
        assert isinstance(opened.code, t.PassCode)
        assert opened.code.digits() == pin
        assert (opened.lock_name, opened.label, opened.lock_zone) == ("Front door", "Anna", "Europe/Berlin")
        assert (opened.kind, opened.one_time) == (t.ScheduleKind.WINDOW, False)
        assert [(w.start, w.end) for w in opened.intervals] == [(shared.start, shared.end)]
        assert (opened.first_use_minutes, opened.first_use_by) == (None, None)
        assert (opened.instructions, opened.host_note) == ("Key box left of the door", "Welcome, Anna!")
        assert (opened.address, opened.host_contact) == (None, None)
        assert opened.expires_at == shared.end
        assert opened.issued_at <= datetime.now(UTC) and opened.summary
    with pytest.raises(t.TesseraError.ShareLinkUnavailable) as third:
        run(guest.open_share_link(url))
    assert type(third.value) is t.TesseraError.ShareLinkUnavailable

    [info] = run(owner.code_shares(shared.code.id))
    assert (info.id, info.views, info.max_views, info.revoked) == (link.id(), 2, 2, False)
    assert info.expires_at == shared.end


def test_revoking_a_link_or_its_code_stops_it(cloud: Cloud, new_device: Callable[..., Device]) -> None:
    shared = owner_with_code(cloud, new_device)
    owner = shared.owner
    guest = visitor(new_device)
    kept = run(owner.share_code(shared.code.id, t.ShareRequest()))
    revoked = run(owner.share_code(shared.code.id, t.ShareRequest(max_views=5)))
    assert kept.id() != revoked.id() and kept.max_views() is None
    assert run(guest.open_share_link(revoked.url())).code.digits() == shared.pin

    # One link revoked: it stops opening at once; the other still opens.
    run(owner.revoke_share(revoked.id()))
    with pytest.raises(t.TesseraError.ShareLinkUnavailable) as raised:
        run(guest.open_share_link(revoked.url()))
    assert type(raised.value) is t.TesseraError.ShareLinkUnavailable
    assert run(guest.open_share_link(kept.url())).code.digits() == shared.pin
    views = {s.id: (s.views, s.revoked) for s in run(owner.code_shares(shared.code.id))}
    assert views == {kept.id(): (1, False), revoked.id(): (1, True)}

    # The code revoked (and synced): every link of it stops opening.
    later = run(owner.share_code(shared.code.id, t.ShareRequest()))
    owner.revoke_code(shared.code.id)
    assert run(owner.sync()).pushed == 1
    for link in (kept, later):
        with pytest.raises(t.TesseraError.ShareLinkUnavailable) as raised:
            run(guest.open_share_link(link.url()))
        assert type(raised.value) is t.TesseraError.ShareLinkUnavailable
    shares = run(owner.code_shares(shared.code.id))
    assert {s.id for s in shares} == {kept.id(), revoked.id(), later.id()}
    assert all(s.revoked for s in shares)
    # A revoked code is not shared again.
    with pytest.raises(t.TesseraError.InvalidInput):
        run(owner.share_code(shared.code.id, t.ShareRequest()))


def test_a_self_contained_link_opens_with_the_cloud_gone(cloud: Cloud, new_device: Callable[..., Device]) -> None:
    shared = owner_with_code(cloud, new_device)
    hosted = run(shared.owner.share_code(shared.code.id, t.ShareRequest()))
    link = run(shared.owner.share_code(shared.code.id, t.ShareRequest(self_contained=True, max_views=1)))
    url = link.url()
    assert url.startswith(cloud.url + "/s/#"), url
    assert link.id() is None and link.max_views() is None
    assert link.expires_at() == shared.end
    assert shared.pin not in url and shared.pin not in link.share_text()
    assert shared.pin not in unfolded(link.calendar()) and link.qr_png().startswith(PNG_SIGNATURE)
    # Nothing of it on the cloud: only the hosted link is there.
    assert [s.id for s in run(shared.owner.code_shares(shared.code.id))] == [hosted.id()]

    cloud.stop()
    guest = visitor(new_device)
    for _ in range(2):  # no view limit: the cloud never sees it
        opened = run(guest.open_share_link(url))
        assert opened.code.digits() == shared.pin
        assert (opened.lock_name, opened.label) == ("Front door", "Anna")
        assert [(w.start, w.end) for w in opened.intervals] == [(shared.start, shared.end)]
    # A hosted link needs its cloud.
    with pytest.raises(t.TesseraError.Offline):
        run(guest.open_share_link(hosted.url()))


def test_damaged_links_do_not_open(cloud: Cloud, new_device: Callable[..., Device]) -> None:
    shared = owner_with_code(cloud, new_device)
    guest = visitor(new_device)
    portable = run(shared.owner.share_code(shared.code.id, t.ShareRequest(self_contained=True))).url()
    hosted = run(shared.owner.share_code(shared.code.id, t.ShareRequest(max_views=3)))

    damaged = [
        # One character of the sealed pass changed: the cipher refuses it.
        tamper(portable, -12),
        # ... of its key (the first characters of the payload, after "1.").
        tamper(portable, 5),
        # One character of a hosted link's key that is no key at all.
        tamper(hosted.url(), 3, alphabet="*"),
        # A hosted link's expiry changed: the cloud's pass is bound to the real one.
        hosted.url().replace("." + fragment(hosted.url()).split(".")[1], ".9999999999"),
        "not a link",
        "",
        cloud.url + "/s/",
        hosted.url().split("#")[0],  # the key cut off
        "ftp://127.0.0.1/s/abc#def.123",
    ]
    for url in damaged:
        with pytest.raises(t.TesseraError.ShareLinkInvalid) as raised:
            run(guest.open_share_link(url))
        assert type(raised.value) is t.TesseraError.ShareLinkInvalid, url
        assert raised.value.reason
        assert shared.pin not in str(raised.value)

    # A well-formed but wrong key: the cloud answers as for any link it will not open
    # (it cannot tell a typo from a guess), and no view is spent.
    with pytest.raises(t.TesseraError.ShareLinkUnavailable):
        run(guest.open_share_link(tamper(hosted.url(), 3)))
    # An expiry in the past is refused before asking anyone.
    past = hosted.url().replace("." + fragment(hosted.url()).split(".")[1], ".1000000000")
    with pytest.raises(t.TesseraError.ShareLinkExpired):
        run(guest.open_share_link(past))

    assert run(guest.open_share_link(portable)).code.digits() == shared.pin
    assert run(guest.open_share_link(hosted.url())).code.digits() == shared.pin
    [info] = run(shared.owner.code_shares(shared.code.id))
    # The changed expiry spent one view (the key was right), the original one.
    assert (info.id, info.views) == (hosted.id(), 2)


def test_links_passes_and_codes_never_print_the_pin_or_the_secret(
    cloud: Cloud, new_device: Callable[..., Device]
) -> None:
    shared = owner_with_code(cloud, new_device)
    guest = visitor(new_device)
    for share_request in (t.ShareRequest(), t.ShareRequest(self_contained=True)):
        link = run(shared.owner.share_code(shared.code.id, share_request))
        secret = fragment(link.url())
        opened = run(guest.open_share_link(link.url()))
        assert opened.code.digits() == shared.pin
        secrets = [shared.pin, secret, max(secret.split("."), key=len)]
        shown = [
            str(link),
            repr(link),
            str(opened),
            repr(opened),
            str(opened.code),
            repr(opened.code),
            f"{opened.code}",
            str(vars(opened)),
            str(run(shared.owner.code_shares(shared.code.id))),
        ]
        for text in shown:
            for value in secrets:
                assert value not in text, f"{text!r} shows a secret"
