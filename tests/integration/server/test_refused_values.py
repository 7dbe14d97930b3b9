"""Values the databases treat differently never become a 500 (found by schemathesis):
NUL characters, which PostgreSQL's text refuses and git allows, and numbers too large
for an id."""

from __future__ import annotations

from tests.integration.server.conftest import Api


def test_nul_characters_and_huge_ids(api: Api) -> None:
    ann = api.account("ann")
    api.repository(ann, "novel")
    login = api.client.post("/auth/login", json={"email": "a\x00@b.c", "password": "x" * 12})
    assert login.status_code == 400 and login.json()["code"] == "malformed"

    # A save's message reaches the commit index (its summary): kept, NUL replaced.
    body = {"file_path": "a.md", "content": "x\n", "message": "bad\x00message"}
    saved = api.client.post("/repositories/novel/save", json=body, headers=ann.headers)
    assert saved.status_code == 201, saved.text
    history = api.client.get("/repositories/novel/history", headers=ann.headers).json()
    assert "bad\ufffdmessage" in str(history)

    # Elsewhere a value PostgreSQL refuses is the request's fault (SQLite keeps it).
    made = api.client.post(
        "/repositories", json={"name": "n2", "description": "d\x00"}, headers=ann.headers
    )
    assert made.status_code in {201, 422}, made.text

    for method in ("DELETE", "PATCH"):
        got = api.client.request(
            method,
            "/repositories/novel/collaborators/81749299648030268456960",
            json={"role": "writer"},
            headers=ann.headers,
        )
        assert got.status_code == 400, got.text
