"""Accounts and sharing on the real server, as a writer meets them: signing in (a wrong
password refused, nothing kept), signing out (tokens gone and revoked, saves kept on the
computer until the next sign-in), an expired access token refreshed without the writer
noticing, sharing a project with all its history, cloning it with progress, and inviting
collaborators. Every test runs on SQLite, then on a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt
import msgspec
import pytest

from gitwrite.rest import RestError, ServerApi
from gitwrite_desktop.core.credentials import Tokens
from gitwrite_desktop.core.operations import (
    CreateExploration,
    CreateMilestone,
    ListExplorations,
    ListMilestones,
    ListProjects,
    Operation,
    Switch,
)
from gitwrite_desktop.core.sync import (
    ClonePhase,
    FolderNotEmpty,
    RepositoryTaken,
    ServerRefused,
    SignInRefused,
    State,
    SyncReport,
)
from gitwrite_desktop.core.workspace import Account, Share
from tests.integration.desktop.clients import PASSWORD, Client, register, unique
from tests.integration.desktop.proxy import Proxy
from tests.integration.sync.helpers import expired_token
from tests.serverproc import SECRET, ServerProcess

pytestmark = pytest.mark.integration

T = TypeVar("T")

CHAPTERS = {
    "chapter-01.md": "# One\n\nIt was a dark night.\n\nThe rain fell.\n",
    "chapter-02.md": "# Two\n\nMorning came.\n\nThe sun rose slowly.\n",
    "notes/characters.md": "# People\n\n- Ann, who writes.\n- Bob, who reads.\n",
}

MakeClient = Callable[[str, str], Client]


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[MakeClient]:
    """``make(name, server_url)``: a new headless GitWrite; every one is closed at the end."""
    made: list[Client] = []

    def make(name: str, server_url: str) -> Client:
        client = Client(tmp_path / name, server_url, name=name)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in reversed(made):
            client.close()


# -- helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceAccounts(Operation[list[Account]]):
    def run(self, ctx: Any, /) -> list[Account]:
        return list(ctx.workspace.accounts())


@dataclass(frozen=True)
class WorkspaceShares(Operation[list[Share]]):
    project_id: str

    def run(self, ctx: Any, /) -> list[Share]:
        return list(ctx.workspace.shares(self.project_id))


def rest(server_url: str, call: Callable[[ServerApi], Awaitable[T]]) -> T:
    """One REST call to the server, outside any GitWrite client."""

    async def run() -> T:
        async with ServerApi(server_url) as api:
            return await call(api)

    return asyncio.run(run())


def whoami(server_url: str, access_token: str) -> Any:
    """``GET /auth/me`` with a token (`RestError` when the server refuses it)."""
    return rest(server_url, lambda api: api.me(access_token))


def credentials_file(client: Client) -> dict[str, Any]:
    """What the client's credentials file holds (account id → tokens); {} when absent."""
    path = client.root / "app-data" / "credentials.json"
    if not path.exists():
        return {}
    loaded = json.loads(path.read_bytes())
    assert isinstance(loaded, dict)
    return loaded


def stored(client: Client) -> Tokens:
    tokens = client.sessions.store.load(client.account_id)
    assert tokens is not None, f"{client.name} has no tokens"
    return tokens


def arrives(client: Client, project_id: str, head: str, path: str, text: str) -> None:
    """After syncing, ``client``'s project is at ``head`` with ``text`` in ``path``."""
    assert client.sync_and_wait(60)
    assert client.head(project_id) == head
    assert client.read(project_id, path) == text


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file of a folder outside its ``.git``: relative path → bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def account_status(report: SyncReport, account_id: str) -> tuple[State, str] | None:
    status = report.account(account_id)
    return None if status is None else (status.state, status.reason)


def signed_out(report: SyncReport, account_id: str) -> bool:
    status = report.account(account_id)
    return status is not None and status.state is State.ERROR and "signed out" in status.reason


def signed_out_status(state: State, reason: str) -> bool:
    return state is State.ERROR and "signed out" in reason


def online(report: SyncReport, account_id: str) -> bool:
    status = report.account(account_id)
    return status is not None and status.state is State.ONLINE


# -- 1. signing in ------------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_nothing_is_kept_then_the_right_one_signs_in(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    email = register(server.base_url, "ann")

    with pytest.raises(SignInRefused) as refused:
        ann.engine.sign_in(server.base_url, email, PASSWORD + " nope").result(60)
    assert refused.value.server_url == server.base_url
    assert "did not accept that email and password" in str(refused.value)
    assert credentials_file(ann) == {}
    assert ann.desktop.call(WorkspaceAccounts()).value == []
    report = ann.status()
    assert report.accounts == ()
    assert (report.state, report.reason) == (State.OFFLINE, "not signed in to a server")

    account = ann.sign_in(email)
    assert (account.server_url, account.email, account.display_name) == (
        server.base_url,
        email,
        "Ann",
    )
    assert ann.desktop.call(WorkspaceAccounts()).value == [account]
    kept = credentials_file(ann)
    assert set(kept) == {account.id}
    assert kept[account.id]["access_token"] and kept[account.id]["refresh_token"]
    # The kept tokens are the server's own: it answers with this account.
    me = whoami(server.base_url, kept[account.id]["access_token"])
    assert me["email"] == email
    report = ann.wait_for(lambda r: online(r, account.id), timeout=30)
    assert account_status(report, account.id) == (State.ONLINE, "")
    assert report.state is State.ONLINE
    assert ann.engine.wait_idle(30)


# -- 2. signing out -----------------------------------------------------------------------


def test_signing_out_forgets_the_tokens_and_keeps_saves_local_until_signing_in_again(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    bob = clients("bob", server.base_url)
    email = register(server.base_url, "ann")
    ann.sign_in(email)
    bob_email = register(server.base_url, "bob")
    bob.sign_in(bob_email)
    pid = ann.new_project(CHAPTERS)
    repository = unique("novel")
    ann.share(pid, repository)
    ann.invite(repository, bob_email, "editor")
    bid = bob.clone(repository)
    shared_head = ann.head(pid)
    assert shared_head is not None and bob.head(bid) == shared_head
    old = stored(ann)
    pushes = ann.stats()[pid].pushes

    ann.engine.sign_out(ann.account_id).result(60)

    # The tokens are gone from the file, and the server no longer accepts them.
    assert ann.account_id not in credentials_file(ann)
    assert ann.sessions.store.load(ann.account_id) is None
    with pytest.raises(RestError) as refresh:
        rest(server.base_url, lambda api: api.refresh(old.refresh_token))
    assert refresh.value.status == 401
    with pytest.raises(RestError) as me:
        whoami(server.base_url, old.access_token)
    assert me.value.status == 401
    # The account stays in the workspace (signed out), the project stays shared.
    assert [a.id for a in ann.desktop.call(WorkspaceAccounts()).value] == [ann.account_id]

    # A save made now stays on this computer.
    text = CHAPTERS["chapter-01.md"].replace("dark night", "dark and stormy night")
    save = ann.save(pid, {"chapter-01.md": text}, "Stormier")
    time.sleep(2.0)  # every chance for a push to leave (reconnects wait ≤ 0.5 s here)
    report = ann.wait_for(lambda r: signed_out(r, ann.account_id), timeout=10)
    assert report.state is State.ERROR
    assert "signed out" in report.reason
    share = report.share(pid)
    assert share is not None and share.state is State.ERROR and "signed out" in share.reason
    assert not ann.engine.wait_idle(1)  # a signed-out account is never idle
    assert ann.stats()[pid].pushes == pushes
    arrives(bob, bid, shared_head, "chapter-01.md", CHAPTERS["chapter-01.md"])
    assert ann.head(pid) == save

    # Signing in again (the same account) pushes it.
    again = ann.sign_in(email)
    assert again.id == ann.account_id
    assert set(credentials_file(ann)) == {again.id}
    assert ann.engine.wait_idle(60)
    report = ann.wait_for(lambda r: online(r, again.id), timeout=30)
    assert report.state is State.ONLINE
    arrives(bob, bid, save, "chapter-01.md", text)


def test_after_signing_out_the_status_says_signed_out_and_never_reconnecting(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    ann.sign_in(register(server.base_url, "ann"))
    ann.wait_for(lambda r: online(r, ann.account_id), timeout=30)
    seen = len(ann.reports)
    ann.engine.sign_out(ann.account_id).result(60)
    time.sleep(1.0)  # reconnects wait at most 0.5 s here
    ann.wait_for(lambda r: signed_out(r, ann.account_id), timeout=10)
    after = [account_status(r, ann.account_id) for r in list(ann.reports)[seen:]]
    assert after, "no status after signing out"
    assert all(s is not None and signed_out_status(*s) for s in after), after


# -- 3. refreshing an expired access token ------------------------------------------------


def expire(client: Client, *, known: bool) -> str:
    """Swap the client's stored access token for one the server signed the same way but
    that expired an hour ago; ``known``: the client's record of when it expires says so
    too (else it still believes the token good, as with a skewed clock). Returns it."""
    tokens = stored(client)
    claims = jwt.decode(tokens.access_token, SECRET, algorithms=["HS256"])
    token = expired_token(int(claims["sub"]))
    now = datetime.now(UTC)
    expires = now - timedelta(hours=1) if known else now + timedelta(minutes=10)
    changed = msgspec.structs.replace(tokens, access_token=token, access_expires_at=expires)
    client.sessions.store.save(client.account_id, changed)
    return token


def failed_attempt_since(client: Client, since: int, timeout: float = 30) -> None:
    """Wait until the client's link, after its ``since``-th status, started connecting and
    failed (the attempt read the tokens stored before ``since``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reasons = [
            status[1]
            for report in list(client.reports)[since:]
            if (status := account_status(report, client.account_id)) is not None
        ]
        started = next((i for i, r in enumerate(reasons) if r.startswith("connecting to")), None)
        if started is not None and any(r.startswith("cannot connect") for r in reasons[started:]):
            return
        time.sleep(0.02)
    raise AssertionError(f"{client.name} never tried to connect: {client.status()}")


def test_an_expired_access_token_is_refreshed_and_syncing_goes_on(
    server: ServerProcess, proxy: Proxy, clients: MakeClient
) -> None:
    ann = clients("ann", proxy.url)  # through the proxy: her connection can be cut
    bob = clients("bob", server.base_url)
    email = register(server.base_url, "ann")
    ann.sign_in(email)
    bob_email = register(server.base_url, "bob")
    bob.sign_in(bob_email)
    pid = ann.new_project(CHAPTERS)
    repository = unique("novel")
    ann.share(pid, repository)

    # A REST call with a token the server says expired: refreshed, retried, done.
    before = stored(ann)
    dead = expire(ann, known=False)
    with pytest.raises(RestError) as refused:
        whoami(server.base_url, dead)
    assert (refused.value.status, refused.value.message) == (401, "the access token has expired")
    ann.invite(repository, bob_email, "editor")
    after_invite = stored(ann)
    assert after_invite.access_token not in (before.access_token, dead)
    assert after_invite.refresh_token != before.refresh_token  # refresh tokens rotate
    bid = bob.clone(repository)

    # Reconnecting with an expired token, known or not: refreshed, and the saves go on.
    latest = after_invite
    for number, known in enumerate((True, False), 1):
        proxy.down()
        ann.wait_for(lambda r: r.state is State.OFFLINE, timeout=30)
        dead = expire(ann, known=known)
        # Only once a connection attempt has read the dead token does the network return
        # (else one that read the previous, still valid, token could get through).
        failed_attempt_since(ann, since=len(ann.reports))
        text = CHAPTERS["chapter-02.md"] + f"\nAfternoon {number}.\n"
        save = ann.save(pid, {"chapter-02.md": text}, f"Afternoon {number}")
        proxy.up()
        assert ann.engine.wait_idle(60), ann.status()
        assert ann.status().state is State.ONLINE
        now = stored(ann)
        assert now.access_token not in (latest.access_token, dead), f"known={known}"
        assert now.refresh_token != latest.refresh_token, f"known={known}"
        assert now.access_expires_at is not None and now.access_expires_at > datetime.now(UTC)
        assert whoami(server.base_url, now.access_token)["email"] == email
        latest = now
        arrives(bob, bid, save, "chapter-02.md", text)


# -- 4. sharing ---------------------------------------------------------------------------


def test_sharing_puts_every_exploration_and_milestone_on_the_server_and_a_taken_name_is_refused(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    laptop = clients("laptop", server.base_url)  # Ann's second computer
    email = register(server.base_url, "ann")
    ann.sign_in(email)
    laptop.sign_in(email)
    pid = ann.new_project(CHAPTERS)
    first = ann.head(pid)
    ann.desktop.call(CreateMilestone(pid, "first draft", "Sent to my editor"))
    ann.desktop.call(CreateExploration(pid, "darker ending", switch=True))
    ending = ann.save(pid, {"chapter-02.md": "# Two\n\nMorning never came.\n"}, "Darker")
    ann.desktop.call(Switch(pid, "main story"))
    main = ann.save(pid, {"chapter-03.md": "# Three\n\nNoon.\n"}, "Chapter three")
    refs = ann.refs(pid)
    assert {"refs/heads/main", "refs/heads/darker-ending", "refs/tags/first-draft"} <= set(refs)

    repository = unique("novel")
    share = ann.engine.share(pid, ann.account_id, repository, "A novel").result(60)
    assert (share.project_id, share.account_id, share.repository) == (
        pid,
        ann.account_id,
        repository,
    )
    detail = rest(server.base_url, lambda api: api.repository(stored(ann).access_token, repository))
    assert (detail["name"], detail["role"], detail["default_branch"]) == (
        repository,
        "owner",
        "main",
    )

    cid = laptop.clone(repository)
    assert laptop.refs(cid) == refs
    assert laptop.head(cid) == main
    assert laptop.head(cid, "refs/heads/darker-ending") == ending
    milestones = laptop.desktop.call(ListMilestones(cid)).value
    assert [(m.name, m.save_id, m.message.strip()) for m in milestones] == [
        ("first draft", first, "Sent to my editor")
    ]
    explorations = {e.branch for e in laptop.desktop.call(ListExplorations(cid)).value}
    assert explorations == {"main", "darker-ending"}
    assert laptop.read(cid, "chapter-03.md") == "# Three\n\nNoon.\n"

    # A second project under the same name: refused, not shared, the first one untouched.
    other = ann.new_project({"other.md": "# Another book\n"}, folder="other")
    with pytest.raises(RepositoryTaken) as taken:
        ann.engine.share(other, ann.account_id, repository).result(60)
    assert taken.value.name == repository and taken.value.status == 409
    assert repository in str(taken.value)
    assert ann.desktop.call(WorkspaceShares(other)).value == []
    assert laptop.sync_and_wait(60)
    assert laptop.refs(cid) == refs


# -- 5. cloning ---------------------------------------------------------------------------


def test_cloning_reports_progress_and_copies_the_files_but_never_into_a_folder_with_files(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    laptop = clients("laptop", server.base_url)
    email = register(server.base_url, "ann")
    ann.sign_in(email)
    laptop.sign_in(email)
    pid = ann.new_project(CHAPTERS)
    repository = unique("novel")
    ann.share(pid, repository)
    owner_files = folder_files(ann.root / "novel")
    assert set(CHAPTERS) <= set(owner_files)

    # A folder that already holds files: refused, and nothing there changes.
    occupied = laptop.root / "occupied"
    (occupied / "drafts").mkdir(parents=True)
    (occupied / "todo.txt").write_text("buy milk\n")
    (occupied / "drafts" / "old.md").write_text("# An old draft\n")
    before = folder_files(occupied)
    projects = len(laptop.desktop.call(ListProjects()).value)
    refused: list[tuple[ClonePhase, int, int]] = []
    with pytest.raises(FolderNotEmpty) as not_empty:
        laptop.engine.clone(
            laptop.account_id, repository, occupied, progress=lambda *p: refused.append(p)
        ).result(60)
    assert not_empty.value.path == str(occupied)
    assert folder_files(occupied) == before
    assert sorted(p.name for p in occupied.iterdir()) == ["drafts", "todo.txt"]
    assert len(laptop.desktop.call(ListProjects()).value) == projects
    assert ClonePhase.DONE not in [phase for phase, _, _ in refused]

    # A new folder: every phase in order, ending done, and the owner's files.
    progress: list[tuple[ClonePhase, int, int]] = []
    cid = laptop.clone(repository, "novel", progress=lambda *p: progress.append(p))
    phases = [
        phase
        for index, (phase, _, _) in enumerate(progress)
        if index == 0 or phase != progress[index - 1][0]
    ]
    assert phases == [
        ClonePhase.CONNECTING,
        ClonePhase.RECEIVING,
        ClonePhase.WRITING,
        ClonePhase.INDEXING,
        ClonePhase.DONE,
    ]
    assert progress[-1] == (ClonePhase.DONE, 1, 1)
    received = [(d, t) for phase, d, t in progress if phase is ClonePhase.RECEIVING]
    assert received[-1][0] == received[-1][1] > 0
    written = [(d, t) for phase, d, t in progress if phase is ClonePhase.WRITING]
    tracked = len(ann.call_project(pid, lambda p: p.head_entries()))
    assert written == [(n, tracked) for n in range(tracked + 1)]
    assert folder_files(laptop.root / "novel") == owner_files
    assert laptop.head(cid) == ann.head(pid)
    assert len(laptop.desktop.call(ListProjects()).value) == projects + 1
    assert laptop.engine.wait_idle(30)
    share = laptop.status().share(cid)
    assert share is not None and share.state is State.ONLINE and share.repository == repository


# -- 6. inviting --------------------------------------------------------------------------


def test_an_invited_writer_can_clone_and_unknown_people_or_roles_are_refused(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    bob = clients("bob", server.base_url)
    ann.sign_in(register(server.base_url, "ann"))
    bob_email = register(server.base_url, "bob")
    bob.sign_in(bob_email)
    pid = ann.new_project(CHAPTERS)
    repository = unique("novel")
    ann.share(pid, repository)

    # Not invited yet: the repository is not Bob's to clone, and no folder is made.
    with pytest.raises(ServerRefused) as hidden:
        bob.engine.clone(bob.account_id, repository, bob.root / "early").result(60)
    assert hidden.value.status == 404
    assert not (bob.root / "early").exists()

    ann.invite(repository, bob_email, "writer")
    bid = bob.clone(repository)
    assert folder_files(bob.root / "novel") == folder_files(ann.root / "novel")
    assert bob.head(bid) == ann.head(pid)
    detail = rest(server.base_url, lambda api: api.repository(stored(bob).access_token, repository))
    assert detail["role"] == "writer"

    nobody = f"{unique('nobody')}@example.com"
    with pytest.raises(ServerRefused) as unknown:
        ann.invite(repository, nobody, "writer")
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")
    assert nobody in str(unknown.value)

    with pytest.raises(ServerRefused) as bad_role:
        ann.invite(repository, bob_email, "admin")
    assert (bad_role.value.status, bad_role.value.code) == (400, "malformed")
    # Bob's role did not change.
    detail = rest(server.base_url, lambda api: api.repository(stored(bob).access_token, repository))
    assert detail["role"] == "writer"


def test_a_bad_role_is_refused_with_a_reason_that_names_it(
    server: ServerProcess, clients: MakeClient
) -> None:
    ann = clients("ann", server.base_url)
    ann.sign_in(register(server.base_url, "ann"))
    bob_email = register(server.base_url, "bob")
    pid = ann.new_project(CHAPTERS)
    repository = unique("novel")
    ann.share(pid, repository)
    with pytest.raises(ServerRefused) as bad_role:
        ann.invite(repository, bob_email, "admin")
    assert bad_role.value.status == 400
    assert "role" in str(bad_role.value) and "admin" in str(bad_role.value), str(bad_role.value)
