"""Staff accounts, sessions, one-time links and sign-in failures on Firestore: the
StaffStore port (the rules: shared.domain.staff; the use cases: shared.usecases.staff).

Layout:

- ``staff_accounts/{random id}``: one person: e-mail, name, agency, role, the Argon2id
  hash, the TOTP secret and its last accepted step, active, session epoch;
- ``staff_emails/{e-mail}``: the claim that makes an address unique (created with a
  create precondition in the account's own commit);
- ``staff_sessions/{sha256 of the cookie's token}``: a session; ``delete_after`` (a week
  after it began, past any expiry the settings allow) feeds a TTL policy;
- ``staff_links/{sha256 of the link's token}``: an invitation or a reset link, marked
  used in the commit that uses it; ``delete_after`` (a month after it expires) for TTL;
- ``staff_sign_in/{keyed hash of an address}``: failures in a row (an atomic increment:
  a burst of guesses at once is counted exactly) and the lock, for any address tried,
  known or not; ``delete_after`` a day after the last failure or the lock's end (TTL);
- the rate slots share ``rate_limits`` with the submissions (TTL on ``expires_at``);
- the outbox entries and the change-log entries a change makes are written in its commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore import (
    OUTBOX,
    RATE_LIMITS,
    SCHEMA_VERSION,
    StoreStats,
    _check_version,
    _opt_ts,
    _opt_utc,
    _ts,
    _utc,
    outbox_to_doc,
)
from shared.adapters.firestore_audit import audit_ref
from shared.adapters.firestore_outage import translates_outages
from shared.domain.report import Role
from shared.domain.staff import (
    LinkPurpose,
    SessionStage,
    SignInThrottle,
    StaffAccount,
    StaffLink,
    StaffSession,
)
from shared.ports import (
    EmailTaken,
    RateSlot,
    RateSlotTaken,
    Sealer,
    StaffNotFound,
    StaffUpdate,
)

ACCOUNTS = "staff_accounts"
EMAILS = "staff_emails"
SESSIONS = "staff_sessions"
LINKS = "staff_links"
SIGN_IN = "staff_sign_in"
IN_LIMIT = 30  # values in one Firestore "in" filter
SESSION_KEPT = dt.timedelta(days=7)
LINK_KEPT = dt.timedelta(days=30)
THROTTLE_KEPT = dt.timedelta(days=1)  # after the last failure or the lock's end

Doc = dict[str, Any]


# --- documents -------------------------------------------------------------------------------


def _totp_sealer_from_settings() -> Sealer | None:
    from shared.adapters.crypto import totp_sealer_from_settings

    return totp_sealer_from_settings()


# A TOTP secret is stored sealed (shared.adapters.crypto.TinkAeadSealer, bytes) under
# its document's path; one stored before sealing is a string and still reads. A function
# that holds no key (notify reads accounts for their addresses) keeps a sealed one as this
# marker and its ciphertext, and writes it back as it was.
_STILL_SEALED = "sealed:"


def totp_context(collection: str, doc_id: str) -> bytes:
    return f"{collection}/{doc_id}".encode()


def seal_totp(secret: str | None, context: bytes, sealer: Sealer | None) -> str | bytes | None:
    if secret is None:
        return None
    if secret.startswith(_STILL_SEALED):
        return base64.b64decode(secret.removeprefix(_STILL_SEALED))
    if sealer is None:
        # Never a silent fallback to a clear secret.
        raise RuntimeError("LAPOR_TOTP_KEYSET(_FILE) is not set: no key to seal a TOTP secret")
    return sealer.seal(secret.encode(), context)


def open_totp(stored: object, context: bytes, sealer: Sealer | None) -> str | None:
    if stored is None or isinstance(stored, str):
        return stored  # none, or stored before sealing
    if not isinstance(stored, bytes):
        raise TypeError(f"unexpected TOTP secret of type {type(stored).__name__}")
    if sealer is None:
        return _STILL_SEALED + base64.b64encode(stored).decode()
    return sealer.open(stored, context).decode()


def account_to_doc(account: StaffAccount, totp: Sealer | None = None) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "email": account.email,
        "name": account.name,
        "agency_id": account.agency_id,
        "role": account.role.value,
        "created_by": account.created_by,
        "created_at": _ts(account.created_at),
        "password_hash": account.password_hash,
        "totp_secret": seal_totp(
            account.totp_secret, totp_context(ACCOUNTS, account.account_id), totp
        ),
        "totp_last_step": account.totp_last_step,
        "active": account.active,
        "session_epoch": account.session_epoch,
        "password_changed_at": _opt_ts(account.password_changed_at),
    }


def account_from_doc(
    account_id: str, doc: Mapping[str, Any], totp: Sealer | None = None
) -> StaffAccount:
    _check_version(doc, f"{ACCOUNTS}/{account_id}")
    return StaffAccount(
        account_id=account_id,
        email=str(doc["email"]),
        name=str(doc["name"]),
        agency_id=str(doc["agency_id"]),
        role=Role(doc["role"]),
        created_by=str(doc.get("created_by", "")),
        created_at=_utc(doc["created_at"]),
        password_hash=doc.get("password_hash"),
        totp_secret=open_totp(doc.get("totp_secret"), totp_context(ACCOUNTS, account_id), totp),
        totp_last_step=int(doc.get("totp_last_step", 0)),
        active=bool(doc.get("active", True)),
        session_epoch=int(doc.get("session_epoch", 0)),
        password_changed_at=_opt_utc(doc.get("password_changed_at")),
    )


def session_to_doc(session: StaffSession, totp: Sealer | None = None) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "account_id": session.account_id,
        "epoch": session.epoch,
        "stage": session.stage.value,
        "csrf_token": session.csrf_token,
        "created_at": _ts(session.created_at),
        "last_seen_at": _ts(session.last_seen_at),
        "client": session.client,
        "pending_totp_secret": seal_totp(
            session.pending_totp_secret, totp_context(SESSIONS, session.session_id), totp
        ),
        "delete_after": _ts(session.created_at + SESSION_KEPT),
    }


def session_from_doc(
    session_id: str, doc: Mapping[str, Any], totp: Sealer | None = None
) -> StaffSession:
    _check_version(doc, f"{SESSIONS}/{session_id}")
    return StaffSession(
        session_id=session_id,
        account_id=str(doc["account_id"]),
        epoch=int(doc["epoch"]),
        stage=SessionStage(doc["stage"]),
        csrf_token=str(doc["csrf_token"]),
        created_at=_utc(doc["created_at"]),
        last_seen_at=_utc(doc["last_seen_at"]),
        client=str(doc.get("client", "")),
        pending_totp_secret=open_totp(
            doc.get("pending_totp_secret"), totp_context(SESSIONS, session_id), totp
        ),
    )


def link_to_doc(link: StaffLink) -> Doc:
    return {
        "schema_version": SCHEMA_VERSION,
        "purpose": link.purpose.value,
        "account_id": link.account_id,
        "created_at": _ts(link.created_at),
        "expires_at": _ts(link.expires_at),
        "used_at": _opt_ts(link.used_at),
        "delete_after": _ts(link.expires_at + LINK_KEPT),
    }


def link_from_doc(key: str, doc: Mapping[str, Any]) -> StaffLink:
    _check_version(doc, f"{LINKS}/{key}")
    return StaffLink(
        key=key,
        purpose=LinkPurpose(doc["purpose"]),
        account_id=str(doc["account_id"]),
        created_at=_utc(doc["created_at"]),
        expires_at=_utc(doc["expires_at"]),
        used_at=_opt_utc(doc.get("used_at")),
    )


def throttle_to_doc(throttle: SignInThrottle, now: dt.datetime) -> Doc:
    last = max(now, throttle.locked_until or now)
    return {
        "schema_version": SCHEMA_VERSION,
        "failures": throttle.failures,
        "locked_until": _opt_ts(throttle.locked_until),
        "delete_after": _ts(last + THROTTLE_KEPT),
    }


def throttle_from_doc(key: str, doc: Mapping[str, Any]) -> SignInThrottle:
    _check_version(doc, f"{SIGN_IN}/{key}")
    return SignInThrottle(
        key=key,
        failures=int(doc.get("failures", 0)),
        locked_until=_opt_utc(doc.get("locked_until")),
    )


def _rate_slot_doc(slot: RateSlot) -> Doc:
    # The document the submissions' slots are (shared.adapters.firestore).
    return {"window": slot.window_key, "slot": slot.slot, "expires_at": _ts(slot.expires_at)}


# --- the queries (each served by a single-field index) ------------------------------------------


def account_by_email_query(accounts: Any, email: str) -> Any:
    return accounts.where(filter=FieldFilter("email", "==", email)).limit(1)


def accounts_in_query(accounts: Any, agency_ids: Sequence[str]) -> Any:
    return accounts.where(filter=FieldFilter("agency_id", "in", list(agency_ids)))


def sessions_of_query(sessions: Any, account_id: str) -> Any:
    return sessions.where(filter=FieldFilter("account_id", "==", account_id))


SINGLE_FIELD_QUERIES: tuple[tuple[str, Callable[[firestore.Client], Any]], ...] = (
    (
        "staff account by e-mail",
        lambda client: account_by_email_query(client.collection(ACCOUNTS), "a@b.example"),
    ),
    (
        "staff accounts of agencies",
        lambda client: accounts_in_query(client.collection(ACCOUNTS), ["dpupr-cianjur"]),
    ),
    (
        "sessions of a staff account",
        lambda client: sessions_of_query(client.collection(SESSIONS), "account"),
    ),
)


# --- the store ---------------------------------------------------------------------------------


@translates_outages
class FirestoreStaffStore:
    def __init__(
        self,
        client: firestore.Client,
        stats: StoreStats | None = None,
        totp_sealer: Callable[[], Sealer | None] | None = None,
    ) -> None:
        """``totp_sealer`` makes the sealer of TOTP secrets on first use (by default from
        the settings' TOTP keyset; None where this function holds none)."""
        self._client = client
        self._make_totp_sealer = totp_sealer or _totp_sealer_from_settings
        self._accounts = client.collection(ACCOUNTS)
        self._emails = client.collection(EMAILS)
        self._sessions = client.collection(SESSIONS)
        self._links = client.collection(LINKS)
        self._sign_in = client.collection(SIGN_IN)
        self._rate_limits = client.collection(RATE_LIMITS)
        self._outbox = client.collection(OUTBOX)
        self.stats = stats or StoreStats()

    @functools.cached_property
    def _totp(self) -> Sealer | None:
        return self._make_totp_sealer()

    def _get(self, ref: Any, transaction: Any = None) -> Mapping[str, Any] | None:
        snap = ref.get(transaction=transaction)
        self.stats.add(reads=1)
        return (snap.to_dict() or {}) if snap.exists else None

    # --- accounts ---

    def account(self, account_id: str) -> StaffAccount | None:
        doc = self._get(self._accounts.document(account_id))
        return None if doc is None else account_from_doc(account_id, doc, self._totp)

    def account_by_email(self, email: str) -> StaffAccount | None:
        docs = list(account_by_email_query(self._accounts, email).stream())
        self.stats.add(reads=1)
        return account_from_doc(docs[0].id, docs[0].to_dict() or {}, self._totp) if docs else None

    def accounts_in(self, agency_ids: Collection[str]) -> list[StaffAccount]:
        wanted = sorted(set(agency_ids))
        found: list[StaffAccount] = []
        for start in range(0, len(wanted), IN_LIMIT):
            chunk = wanted[start : start + IN_LIMIT]
            docs = list(accounts_in_query(self._accounts, chunk).stream())
            self.stats.add(reads=max(1, len(docs)))
            found.extend(account_from_doc(doc.id, doc.to_dict() or {}, self._totp) for doc in docs)
        return sorted(found, key=lambda a: (a.name.casefold(), a.email))

    def create_account(self, account: StaffAccount, update: StaffUpdate) -> None:
        batch = self._client.batch()
        batch.create(self._emails.document(account.email), {"account_id": account.account_id})
        batch.create(
            self._accounts.document(account.account_id), account_to_doc(account, self._totp)
        )
        writes = 2 + self._stage(batch, update, account.created_at, with_account=False)
        self.stats.add(commits=1)
        try:
            batch.commit()
        except AlreadyExists as exc:
            raise EmailTaken(account.email) from exc
        self.stats.add(writes=writes)

    def update_account(
        self, account_id: str, decide: Callable[[StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        def read(transaction: Any) -> StaffUpdate:
            return decide(self._account_in(transaction, account_id))

        return self._transact(read)

    def _account_in(self, transaction: Any, account_id: str) -> StaffAccount:
        """The account as the transaction reads it; StaffNotFound when there is none."""
        doc = self._get(self._accounts.document(account_id), transaction)
        if doc is None:
            raise StaffNotFound(account_id)
        return account_from_doc(account_id, doc, self._totp)

    # --- sessions ---

    def session(self, session_id: str) -> StaffSession | None:
        doc = self._get(self._sessions.document(session_id))
        return None if doc is None else session_from_doc(session_id, doc, self._totp)

    def update_session(
        self, session_id: str, decide: Callable[[StaffSession, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        def read(transaction: Any) -> StaffUpdate:
            doc = self._get(self._sessions.document(session_id), transaction)
            if doc is None:
                raise StaffNotFound(session_id)
            session = session_from_doc(session_id, doc, self._totp)
            return decide(session, self._account_in(transaction, session.account_id))

        return self._transact(read)

    def touch_session(self, session_id: str, at: dt.datetime) -> None:
        self.stats.add(commits=1)
        try:
            # An update, never a set: a session signed out meanwhile stays gone.
            self._sessions.document(session_id).update({"last_seen_at": _ts(at)})
        except NotFound:
            return
        self.stats.add(writes=1)

    def end_sessions(self, session_ids: Sequence[str]) -> None:
        if not session_ids:
            return
        batch = self._client.batch()
        for session_id in session_ids:
            batch.delete(self._sessions.document(session_id))
        self.stats.add(commits=1)
        batch.commit()
        self.stats.add(writes=len(session_ids), deletes=len(session_ids))

    def sessions_of(self, account_id: str) -> list[StaffSession]:
        docs = list(sessions_of_query(self._sessions, account_id).stream())
        self.stats.add(reads=max(1, len(docs)))
        sessions = [session_from_doc(doc.id, doc.to_dict() or {}, self._totp) for doc in docs]
        return sorted(sessions, key=lambda s: s.created_at, reverse=True)

    # --- links ---

    def link(self, key: str) -> StaffLink | None:
        doc = self._get(self._links.document(key))
        return None if doc is None else link_from_doc(key, doc)

    def use_link(
        self, key: str, decide: Callable[[StaffLink, StaffAccount], StaffUpdate]
    ) -> StaffUpdate:
        def read(transaction: Any) -> StaffUpdate:
            doc = self._get(self._links.document(key), transaction)
            if doc is None:
                raise StaffNotFound(key)
            link = link_from_doc(key, doc)
            return decide(link, self._account_in(transaction, link.account_id))

        return self._transact(read)

    # --- sign-in failures and the clients' slots ---

    def throttle(self, key: str) -> SignInThrottle:
        doc = self._get(self._sign_in.document(key))
        return SignInThrottle(key) if doc is None else throttle_from_doc(key, doc)

    def count_failure(self, key: str, at: dt.datetime) -> int:
        fields = {
            "schema_version": SCHEMA_VERSION,
            "failures": firestore.Increment(1),
            "delete_after": _ts(at + THROTTLE_KEPT),
        }
        self.stats.add(commits=1)
        result = self._sign_in.document(key).set(fields, merge=True)
        self.stats.add(writes=1)
        # The increment's result comes back with the write: the count, without a read.
        return int(result.transform_results[0].integer_value)

    def lock(self, key: str, until: dt.datetime) -> None:
        self.stats.add(commits=1)
        self._sign_in.document(key).set(
            {"locked_until": _ts(until), "delete_after": _ts(until + THROTTLE_KEPT)},
            merge=True,
        )
        self.stats.add(writes=1)

    def claim_rate_slot(self, slot: RateSlot) -> None:
        self.stats.add(commits=1)
        try:
            self._rate_limits.document(slot.id).create(_rate_slot_doc(slot))
        except AlreadyExists as exc:
            raise RateSlotTaken(slot.id) from exc
        self.stats.add(writes=1)

    def taken_rate_slots(self, window_key: str) -> frozenset[int]:
        query = self._rate_limits.where(filter=FieldFilter("window", "==", window_key))
        docs = list(query.select(["slot"]).stream())
        self.stats.add(reads=max(1, len(docs)))
        return frozenset(int((doc.to_dict() or {}).get("slot", -1)) for doc in docs)

    # --- one commit ---

    def _transact(self, read: Callable[[Any], StaffUpdate]) -> StaffUpdate:
        """Run ``read`` (reads, then the caller's decide) in a transaction and commit
        the update it returns; the wrapper runs it again on contention."""
        written = {"commits": 0, "writes": 0}

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> StaffUpdate:
            update = read(transaction)
            now = dt.datetime.now(dt.UTC)
            written["commits"] += 1
            written["writes"] = self._stage(transaction, update, now)
            return update

        try:
            return run(self._client.transaction())  # type: ignore[no-any-return]
        finally:
            self.stats.add(commits=written["commits"], writes=written["writes"])

    def _stage(
        self, writer: Any, update: StaffUpdate, now: dt.datetime, *, with_account: bool = True
    ) -> int:
        """Stage what ``update`` writes on ``writer`` (a transaction or a batch); returns
        how many writes. ``now`` dates the throttle's removal."""
        writes = 0
        if update.account is not None and with_account:
            account = update.account
            writer.set(
                self._accounts.document(account.account_id), account_to_doc(account, self._totp)
            )
            writes += 1
        for session in update.sessions:
            writer.set(
                self._sessions.document(session.session_id), session_to_doc(session, self._totp)
            )
        for link in update.links:
            writer.set(self._links.document(link.key), link_to_doc(link))
        if update.throttle is not None:
            ref = self._sign_in.document(update.throttle.key)
            if update.throttle.is_clean:
                writer.delete(ref)  # a clean slate is no document
            else:
                writer.set(ref, throttle_to_doc(update.throttle, now))
            writes += 1
        for message in update.outbox:
            writer.set(self._outbox.document(message.id), outbox_to_doc(message))
        for entry in update.audit:
            writer.set(*audit_ref(self._client, entry))
        return (
            writes
            + len(update.sessions)
            + len(update.links)
            + len(update.outbox)
            + len(update.audit)
        )
