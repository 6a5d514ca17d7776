"""GET /api/v1/reports/{code}/timeline on the submit function, against the real
emulators: an export anyone can verify with tools/verify_timeline.py, which shows
each audience what its view shows and catches a timeline changed in the database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskClient
from google.cloud import firestore

from shared.domain import chain
from shared.domain.tracking import new_tracking_code
from tests.functional.test_reporter_actions import (
    DISPOSITION,
    FOLLOW_UP,
    HOLD,
    bearer,
    drive,
    submitted,
)

ROOT = Path(__file__).resolve().parents[2]


def _verify_tool(export: bytes, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "export.json"
    path.write_bytes(export)
    return subprocess.run(
        [sys.executable, "-m", "tools.verify_timeline", str(path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_public_and_the_reporter_exports_verify_and_show_what_their_views_show(
    app: FlaskClient, tmp_path: Path
) -> None:
    report_id, code, token = submitted(app)
    drive(report_id, HOLD)  # the hold's reason is the reporter's, not the public's

    public = app.get(f"/api/v1/reports/{code}/timeline")
    private = app.get(f"/api/v1/reports/{code}/timeline", headers=bearer(token))

    assert public.status_code == 200 and private.status_code == 200
    assert public.mimetype == "application/json"
    exported = json.loads(public.data)
    assert public.data == chain.canonical(exported)  # served in its canonical form
    assert exported["audience"] == "public" and json.loads(private.data)["audience"] == "reporter"
    assert "Di mana tepatnya?" not in public.data.decode()
    assert "Di mana tepatnya?" in private.data.decode()
    assert exported["head"] == json.loads(private.data)["head"]
    assert [entry["seq"] for entry in exported["events"]] == [1, 2]
    assert public.headers["Cache-Control"] == "no-cache"
    assert private.headers["Cache-Control"] == "no-store"
    for export in (public.data, private.data):
        result = _verify_tool(export, tmp_path, "--head", exported["events"][0]["hash"])
        assert result.returncode == 0, result.stdout
        assert "verified: 2 events" in result.stdout


def test_a_timeline_changed_in_the_database_fails_verification(
    app: FlaskClient, db: firestore.Client, tmp_path: Path
) -> None:
    report_id, code, _ = submitted(app)
    drive(report_id, DISPOSITION, FOLLOW_UP)
    before = app.get(f"/api/v1/reports/{code}/timeline").data
    kept_head = json.loads(before)["head"]
    assert _verify_tool(before, tmp_path, "--head", kept_head).returncode == 0

    events = db.collection("reports").document(report_id).collection("events")
    events.document("000003").update({"message": "Sudah selesai semua."})
    altered = _verify_tool(app.get(f"/api/v1/reports/{code}/timeline").data, tmp_path)
    assert altered.returncode == 1 and "altered" in altered.stdout

    events.document("000003").delete()  # the tail: caught against the kept head
    truncated = app.get(f"/api/v1/reports/{code}/timeline").data
    assert _verify_tool(truncated, tmp_path).returncode == 0
    result = _verify_tool(truncated, tmp_path, "--head", kept_head)
    assert result.returncode == 1 and "kept head" in result.stdout


def test_a_confidential_report_is_exported_to_its_reporter_only(app: FlaskClient) -> None:
    _, code, token = submitted(app, confidential=True)

    hidden = app.get(f"/api/v1/reports/{code}/timeline")
    unknown = app.get(f"/api/v1/reports/{new_tracking_code()}/timeline")
    malformed_token = app.get(
        f"/api/v1/reports/{code}/timeline", headers={"X-Reporter-Token": "tok\u00e9n"}
    )

    assert hidden.status_code == 404 and malformed_token.status_code == 404
    assert unknown.status_code == 404
    assert hidden.get_json() | {"instance": None} == unknown.get_json() | {"instance": None}
    assert app.get(f"/api/v1/reports/{code}/timeline", headers=bearer(token)).status_code == 200
