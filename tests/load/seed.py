"""Accounts and a project for the load test, made through the REST API only.

``load-0@example.com`` ... ``load-{N-1}@example.com`` (``load-0`` owns the project, the
others are its editors, so every writer may save on the main story) and the project,
filled with the chapters of Pride and Prejudice, one ``POST /save`` each.

Run by hand against a running server::

    .venv/bin/python -m tests.load.seed http://127.0.0.1:8765 --accounts 20
"""

from __future__ import annotations

import argparse
import time

import httpx

from tests.corpus import chapters

REPO = "load-novel"
EMAIL = "load-{}@example.com"
PASSWORD = "load test password"


def account_email(number: int) -> str:
    return EMAIL.format(number)


def seed(
    base_url: str,
    accounts: int,
    *,
    chapters_count: int | None = None,
    repo: str = REPO,
    password: str = PASSWORD,
) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=120, trust_env=False) as http:
        for n in range(accounts):
            account = {"email": account_email(n), "password": password, "display_name": f"W{n}"}
            made = http.post("/auth/register", json=account)
            if made.status_code != 409:  # 409: there from an earlier seed
                made.raise_for_status()
        login = http.post("/auth/login", json={"email": account_email(0), "password": password})
        login.raise_for_status()
        owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
        made = http.post("/repositories", json={"name": repo}, headers=owner)
        if made.status_code != 409:
            made.raise_for_status()
        for n in range(1, accounts):
            shared = http.post(
                f"/repositories/{repo}/collaborators",
                json={"email": account_email(n), "role": "editor"},
                headers=owner,
            )
            shared.raise_for_status()
        texts = chapters("pride_and_prejudice")[:chapters_count]
        for name, text in texts:
            body = {"file_path": name, "content": text, "message": f"Add {name}"}
            saved = http.post(f"/repositories/{repo}/save", json=body, headers=owner)
            saved.raise_for_status()
    print(
        f"seeded {accounts} accounts and {repo!r} with {len(texts)} chapters "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base_url")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--chapters", type=int, default=None, help="default: all 61")
    args = parser.parse_args(argv)
    seed(args.base_url, args.accounts, chapters_count=args.chapters)


if __name__ == "__main__":
    main()
