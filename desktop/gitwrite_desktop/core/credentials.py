"""Where an account's tokens are kept, and the `Session` the sync engine signs in with.

Tokens (a short-lived access token, a refresh token, the access token's expiry) are kept
per account, as one compact JSON value:

* in the system keyring (``keyring``: macOS Keychain, Windows Credential Locker,
  Secret Service on Linux) under the service ``GitWrite`` and the account's id, when a
  real keyring answers. The ``fail`` and ``null`` backends, an empty chain, or a
  keyring that raises when asked count as none (`usable_keyring`);
* otherwise in ``credentials.json`` in the app data folder, created ``0600`` and written
  atomically; a file whose permissions let anyone else read it, or that another user
  owns, is refused (`InsecureCredentials`) and never read. (On Windows the file sits in
  the user's profile, protected by its ACL; mode bits mean nothing there.)

The HTTP calls (sign in, refresh) come with the sync engine: it asks `Sessions` for a
`Session`, refreshes when `Session.needs_refresh`, and stores what the server answered.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import keyring
import msgspec
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringError, PasswordDeleteError

from gitwrite_desktop.core.errors import CredentialsError, InsecureCredentials
from gitwrite_desktop.core.files import atomic_write, move_aside

if TYPE_CHECKING:
    from gitwrite_desktop.core.workspace import Account

log = logging.getLogger(__name__)

SERVICE = "GitWrite"
FILE_NAME = "credentials.json"
REFRESH_LEEWAY = timedelta(seconds=60)
"""Refresh an access token this long before it expires (clocks and requests in flight)."""

Time = Annotated[datetime, msgspec.Meta(tz=True)]


class Tokens(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    access_expires_at: Time | None = None


class TokenStore(Protocol):
    """Keeps tokens per account id."""

    kind: str

    def load(self, account_id: str) -> Tokens | None: ...

    def save(self, account_id: str, tokens: Tokens) -> None: ...

    def delete(self, account_id: str) -> None: ...


def usable_keyring(backend: KeyringBackend) -> bool:
    """Whether ``backend`` really keeps secrets (not fail/null, not an empty chain, and
    answering a harmless lookup without an error)."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False
    try:
        backend.get_password(SERVICE, "gitwrite-probe")
    except Exception as exc:  # any backend may raise anything (D-Bus, locked, missing)
        log.info("the system keyring cannot be used (%r); tokens go to a private file", exc)
        return False
    return True


class KeyringStore:
    """Tokens in the system keyring."""

    kind = "keyring"

    def __init__(self, backend: KeyringBackend) -> None:
        self.backend = backend

    def load(self, account_id: str) -> Tokens | None:
        try:
            value = self.backend.get_password(SERVICE, account_id)
        except KeyringError as exc:
            raise CredentialsError(f"the system keyring refused to answer ({exc})") from exc
        if value is None:
            return None
        try:
            return msgspec.json.decode(value, type=Tokens)
        except msgspec.DecodeError:
            log.warning("unreadable tokens in the keyring for %s; sign in again", account_id)
            return None

    def save(self, account_id: str, tokens: Tokens) -> None:
        try:
            self.backend.set_password(SERVICE, account_id, msgspec.json.encode(tokens).decode())
        except KeyringError as exc:
            raise CredentialsError(f"the system keyring refused to keep them ({exc})") from exc

    def delete(self, account_id: str) -> None:
        try:
            self.backend.delete_password(SERVICE, account_id)
        except PasswordDeleteError:
            pass  # nothing was kept
        except KeyringError as exc:
            raise CredentialsError(f"the system keyring refused to forget them ({exc})") from exc


class FileStore:
    """Tokens in a file only the user can read (``0600``)."""

    kind = "file"
    MODE = 0o600

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise `InsecureCredentials` when others could read the file (POSIX)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        if sys.platform == "win32":
            return
        if st.st_mode & 0o077 or st.st_uid != os.getuid() or not stat.S_ISREG(st.st_mode):
            raise InsecureCredentials(str(self.path), stat.S_IMODE(st.st_mode))

    def _read(self) -> dict[str, Tokens]:
        self.check()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialsError(f"{self.path} cannot be read ({exc.strerror})") from exc
        try:
            return msgspec.json.decode(data, type=dict[str, Tokens])
        except (msgspec.DecodeError, msgspec.ValidationError):
            moved = move_aside(self.path, "corrupt")
            log.warning("unreadable credentials file moved to %s; sign in again", moved)
            return {}

    def _write(self, everything: dict[str, Tokens]) -> None:
        try:
            atomic_write(self.path, msgspec.json.encode(everything), mode=self.MODE)
        except OSError as exc:
            raise CredentialsError(f"{self.path} cannot be written ({exc.strerror})") from exc

    def load(self, account_id: str) -> Tokens | None:
        with self._lock:
            return self._read().get(account_id)

    def save(self, account_id: str, tokens: Tokens) -> None:
        with self._lock:
            everything = self._read()
            everything[account_id] = tokens
            self._write(everything)

    def delete(self, account_id: str) -> None:
        with self._lock:
            everything = self._read()
            if everything.pop(account_id, None) is not None:
                self._write(everything)


def open_store(data_dir: str | Path, backend: KeyringBackend | None = None) -> TokenStore:
    """The system keyring when usable (``backend``, else keyring's choice), else the file."""
    chosen = backend if backend is not None else keyring.get_keyring()
    if usable_keyring(chosen):
        return KeyringStore(chosen)
    return FileStore(Path(data_dir) / FILE_NAME)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in account: where to connect and with which tokens."""

    account_id: str
    server_url: str
    email: str
    tokens: Tokens

    @property
    def access_token(self) -> str:
        return self.tokens.access_token

    @property
    def refresh_token(self) -> str:
        return self.tokens.refresh_token

    def expired(self, now: datetime | None = None) -> bool:
        expires = self.tokens.access_expires_at
        return expires is not None and (now or datetime.now(UTC)) >= expires

    def needs_refresh(self, now: datetime | None = None) -> bool:
        """Whether to refresh before using the access token (it expires within a minute)."""
        expires = self.tokens.access_expires_at
        return expires is not None and (now or datetime.now(UTC)) >= expires - REFRESH_LEEWAY


class Sessions:
    """Sign in, out and refresh, as far as storage goes (thread-safe: the sync thread and
    the GUI both call it)."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store

    def sign_in(self, account: Account, tokens: Tokens) -> Session:
        """Keep the tokens the server gave at sign-in."""
        self.store.save(account.id, tokens)
        return Session(account.id, account.server_url, account.email, tokens)

    def session(self, account: Account) -> Session | None:
        """The stored session of an account, or None when signed out."""
        tokens = self.store.load(account.id)
        if tokens is None:
            return None
        return Session(account.id, account.server_url, account.email, tokens)

    def refreshed(self, session: Session, tokens: Tokens) -> Session:
        """Keep the tokens a refresh returned (the refresh token may have rotated)."""
        self.store.save(session.account_id, tokens)
        return Session(session.account_id, session.server_url, session.email, tokens)

    def sign_out(self, account_id: str) -> None:
        self.store.delete(account_id)
