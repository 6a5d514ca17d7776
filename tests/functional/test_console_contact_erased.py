"""After a named reporter erased their contact details through the private link, the
handling agency's console says so ("Kontak dihapus oleh pelapor"), shows no identity
when asked (and records no view of one), and its change log holds the erasure
(console on the real emulators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.cloud import firestore

from shared import wiring
from shared.config import Settings
from shared.domain.report import Action, Actor, Command, Role
from shared.ports import SystemClock
from shared.usecases.act import act
from tests.functional.console_support import ConsoleClient
from tests.functional.test_agency_function import new_report

SignedIn = Callable[..., ConsoleClient]


def _log(db: firestore.Client, kind: str) -> list[dict[str, Any]]:
    found = [d.to_dict() or {} for d in db.collection("audit_log").stream()]
    return [e for e in found if e["kind"] == kind]


def test_the_agency_sees_the_reporter_erased_their_contact_and_no_identity(
    signed_in_client: SignedIn, db: firestore.Client
) -> None:
    report_id = new_report()  # named: "Siti Rahma", dispositioned to dpupr-cianjur
    erase = Command(Action.ERASE_CONTACT, Actor(Role.REPORTER, "reporter"))
    act(report_id, erase, store=wiring.report_store(), clock=SystemClock(),
        settings=Settings.from_env())  # fmt: skip
    admin = signed_in_client(Role.AGENCY_ADMIN, "dpupr-cianjur", name="Andi Wijaya")

    page = admin.get(f"/laporan/{report_id}")
    shown = admin.post(f"/laporan/{report_id}/identitas")

    assert page.status_code == 200
    assert "Kontak dihapus oleh pelapor" in page.text
    assert "Tampilkan identitas pelapor" not in page.text
    assert "Siti Rahma" not in shown.text
    assert _log(db, "identity.viewed") == []
    [erased] = _log(db, "identity.erased")
    assert (erased["target"], erased["agency_id"], erased["actor_id"]) == (
        report_id,
        "dpupr-cianjur",
        "reporter",
    )
