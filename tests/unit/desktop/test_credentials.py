"""Where tokens are kept: the system keyring when a real one answers, else a file only
the user can read; and the Session the sync engine will sign in with."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError

from gitwrite_desktop.core.credentials import (
    SERVICE,
    FileStore,
    KeyringStore,
    Session,
    Sessions,
    Tokens,
    open_store,
    usable_keyring,
)
from gitwrite_desktop.core.errors import CredentialsError, InsecureCredentials
from gitwrite_desktop.core.workspace import Account

ACCOUNT = Account(
    id="acc1", server_url="https://sync.example.org", email="ann@example.org", display_name="Ann"
)
SOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TOKENS = Tokens(access_token="access.jwt", refresh_token="refresh-1", access_expires_at=SOON)


class MemoryKeyring(KeyringBackend):
    """A keyring backend kept in memory, through keyring's own backend interface
    (priority below zero: keyring never picks it by itself)."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("locked")
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("locked")
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise PasswordDeleteError("not found")
        del self.secrets[(service, username)]


def test_fail_null_and_empty_backends_are_no_keyring() -> None:
    assert not usable_keyring(fail.Keyring())
    assert not usable_keyring(null.Keyring())
    if not chainer.ChainerBackend.backends:  # a chain with nothing in it (as on this image)
        assert not usable_keyring(chainer.ChainerBackend())
    locked = MemoryKeyring()
    locked.locked = True
    assert not usable_keyring(locked)
    assert usable_keyring(MemoryKeyring())


def test_the_store_is_the_keyring_when_usable_else_the_file(tmp_path: Path) -> None:
    store = open_store(tmp_path, MemoryKeyring())
    assert isinstance(store, KeyringStore) and store.kind == "keyring"
    fallback = open_store(tmp_path, fail.Keyring())
    assert isinstance(fallback, FileStore) and fallback.path == tmp_path / "credentials.json"


def test_tokens_in_the_keyring(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend)
    assert store.load("acc1") is None
    store.save("acc1", TOKENS)
    assert json.loads(backend.secrets[(SERVICE, "acc1")])["refresh_token"] == "refresh-1"
    assert store.load("acc1") == TOKENS
    store.delete("acc1")
    store.delete("acc1")  # forgetting what is not there is fine
    assert store.load("acc1") is None
    backend.secrets[(SERVICE, "acc1")] = "not json"
    assert store.load("acc1") is None
    backend.locked = True
    with pytest.raises(CredentialsError):
        store.save("acc1", TOKENS)


def test_the_file_is_private_from_its_first_byte(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask must not widen it
    try:
        store = FileStore(tmp_path / "credentials.json")
        store.save("acc1", TOKENS)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert store.load("acc1") == TOKENS
    store.save("acc2", Tokens(access_token="a2", refresh_token="r2"))
    store.delete("acc1")
    assert store.load("acc1") is None and store.load("acc2") is not None
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused_unread(tmp_path: Path, mode: int) -> None:
    store = FileStore(tmp_path / "credentials.json")
    store.save("acc1", TOKENS)
    os.chmod(store.path, mode)
    with pytest.raises(InsecureCredentials) as caught:
        store.load("acc1")
    assert caught.value.mode == mode and caught.value.path == str(store.path)
    with pytest.raises(InsecureCredentials):
        store.save("acc2", TOKENS)  # nor rewritten behind the writer's back
    assert stat.S_IMODE(os.stat(store.path).st_mode) == mode


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_a_file_another_user_owns_is_refused(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "credentials.json")
    store.save("acc1", TOKENS)
    os.chown(store.path, 65534, 65534)
    with pytest.raises(InsecureCredentials):
        store.load("acc1")


def test_an_unreadable_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{broken")
    os.close(fd)
    store = FileStore(path)
    assert store.load("acc1") is None
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["credentials.json.corrupt"]


def test_saves_from_several_threads_keep_every_account(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "credentials.json")
    threads = [
        threading.Thread(
            target=store.save, args=(f"acc{n}", Tokens(access_token=f"a{n}", refresh_token="r"))
        )
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(store.load(f"acc{n}") is not None for n in range(20))


def test_session_expiry_and_refresh_time() -> None:
    session = Session("acc1", "https://sync.example.org", "ann@example.org", TOKENS)
    assert not session.needs_refresh(SOON - timedelta(minutes=5))
    assert session.needs_refresh(SOON - timedelta(seconds=30))
    assert not session.expired(SOON - timedelta(seconds=30))
    assert session.expired(SOON)
    forever = Session("acc1", "u", "e", Tokens(access_token="a", refresh_token="r"))
    assert not forever.needs_refresh() and not forever.expired()


@pytest.mark.parametrize("kind", ["keyring", "file"])
def test_sign_in_refresh_and_sign_out(tmp_path: Path, kind: str) -> None:
    backend = MemoryKeyring() if kind == "keyring" else fail.Keyring()
    sessions = Sessions(open_store(tmp_path, backend))
    assert sessions.session(ACCOUNT) is None
    signed = sessions.sign_in(ACCOUNT, TOKENS)
    assert (signed.server_url, signed.access_token) == (ACCOUNT.server_url, "access.jwt")
    assert sessions.session(ACCOUNT) == signed
    rotated = Tokens(access_token="access-2", refresh_token="refresh-2", access_expires_at=SOON)
    refreshed = sessions.refreshed(signed, rotated)
    assert sessions.session(ACCOUNT) == refreshed and refreshed.refresh_token == "refresh-2"
    sessions.sign_out(ACCOUNT.id)
    assert sessions.session(ACCOUNT) is None
