"""How an agency's stored signing secrets become the ones a webhook is signed with
(shared/adapters/signing_secrets.py): sealed ones are opened only when signing, under
their own agency's document; clear ones from before sealing are used as they are."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping

import pytest

from shared.adapters.signing_secrets import (
    seal_secret,
    sealed_current,
    signing_context,
    stored_secrets,
)
from shared.ports import AgencyChannel, SealedDataUnreadable

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
UNTIL = NOW + dt.timedelta(hours=24)


class ReversibleSealer:
    """Stands in for Tink: the context is bound in, and opening counts its calls."""

    def __init__(self) -> None:
        self.opened = 0

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        return context + b"|" + plaintext[::-1]

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        bound, _, body = ciphertext.partition(b"|")
        if bound != context:
            raise SealedDataUnreadable("sealed for another document")
        self.opened += 1
        return body[::-1]


def channel_of(doc: Mapping[str, object], sealer: ReversibleSealer) -> AgencyChannel:
    current, previous, open_secret = stored_secrets(doc, "dpupr", lambda: sealer)
    return AgencyChannel(
        "dpupr", "https://d.example/h", (), current,
        previous_secret=previous, previous_until=UNTIL, open_secret=open_secret,
    )  # fmt: skip


def test_sealed_secrets_are_opened_only_to_sign() -> None:
    sealer = ReversibleSealer()
    doc = {
        "sealed_secret": seal_secret("whsec_new", "dpupr", sealer),
        "sealed_previous": seal_secret("whsec_old", "dpupr", sealer),
    }
    channel = channel_of(doc, sealer)
    assert channel.secret and "whsec" not in channel.secret and sealer.opened == 0
    assert base64.b64decode(channel.secret).startswith(signing_context("dpupr"))
    assert channel.signing_secrets(NOW) == ("whsec_new", "whsec_old")
    assert channel.signing_secrets(UNTIL) == ("whsec_new",)


def test_a_secret_sealed_for_another_agency_does_not_open() -> None:
    sealer = ReversibleSealer()
    channel = channel_of({"sealed_secret": seal_secret("whsec_x", "dinkes", sealer)}, sealer)
    with pytest.raises(SealedDataUnreadable):
        channel.signing_secrets(NOW)


def test_clear_secrets_from_before_sealing_sign_as_they_are() -> None:
    sealer = ReversibleSealer()
    doc = {"webhook_secret": "whsec_new", "previous_secret": "whsec_old"}
    assert channel_of(doc, sealer).signing_secrets(NOW) == ("whsec_new", "whsec_old")
    assert channel_of({}, sealer).signing_secrets(NOW) == ()
    assert sealer.opened == 0


def test_a_rotation_keeps_the_current_secret_sealed_without_opening_it() -> None:
    sealer = ReversibleSealer()
    sealed = seal_secret("whsec_now", "dpupr", sealer)
    assert sealed_current({"sealed_secret": sealed}, "dpupr", sealer) == sealed
    from_clear = sealed_current({"webhook_secret": "whsec_now"}, "dpupr", sealer)
    assert (
        from_clear is not None and sealer.open(from_clear, signing_context("dpupr")) == b"whsec_now"
    )
    assert sealed_current({}, "dpupr", sealer) is None
