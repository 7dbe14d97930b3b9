"""The seed's load test: writers signed in, browsing, saving and searching a shared project.

Each simulated writer signs in once (``POST /auth/login``) with one of the accounts
`tests.load.seed` made, then, with a pause of 0.5-2 s between actions::

    weight 3  GET  /repositories                       list my repositories
    weight 2  GET  /repositories/{name}                 view the project
    weight 1  POST /repositories/{name}/save            save a file (file_path, content, message)
    weight 1  GET  /repositories/{name}/search?q=...    search the manuscript

A save writes the writer's own file (``load/writer-N.md``), so saves race on the
exploration but never on a file: the server makes each one on the newest save (a 409
``stale`` would be a real conflict, counted as a failure). A server without the save
endpoint answers 404/405: reported once per writer, who then stops saving.

Settings come from the environment (``tests/load/run.py`` sets them from
`tests.load.seed`; this file imports nothing of the project, as locust runs it alone):
``GITWRITE_LOAD_REPO``, ``GITWRITE_LOAD_ACCOUNTS`` (how many accounts exist),
``GITWRITE_LOAD_EMAIL`` (their addresses, ``{}`` for the number),
``GITWRITE_LOAD_PASSWORD``.

Run by hand against a server already seeded::

    .venv/bin/locust -f tests/load/locustfile.py --headless -u 20 -r 5 -t 60s \\
        --host http://127.0.0.1:8765
"""

from __future__ import annotations

import itertools
import os
import random

from locust import HttpUser, between, task

REPO = os.environ.get("GITWRITE_LOAD_REPO", "load-novel")
ACCOUNTS = int(os.environ.get("GITWRITE_LOAD_ACCOUNTS", "20"))
EMAIL = os.environ.get("GITWRITE_LOAD_EMAIL", "load-{}@example.com")
PASSWORD = os.environ.get("GITWRITE_LOAD_PASSWORD", "load test password")
QUERIES = [
    "Elizabeth",
    "Darcy",
    "Pemberley",
    "letter",
    "Mr. Bennet",
    '"my dear"',
    '"Lady Catherine"',
    "Jane Bingley",
    "Wickham or Collins",
    "ball -Netherfield",
    "draft",
    'unbalanced "quote',
    "-",
    "(( or ))",
]
_numbers = itertools.count()


class Writer(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.email = EMAIL.format(self.number % ACCOUNTS)
        self.saves = 0
        self.can_save = True
        self.headers: dict[str, str] = {}
        with self.client.post(
            "/auth/login",
            json={"email": self.email, "password": PASSWORD},
            name="POST /auth/login",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in refused: {response.status_code} {response.text[:200]}")
                return
            token = response.json()["access_token"]
            self.headers = {"Authorization": f"Bearer {token}"}

    @task(3)
    def list_repositories(self) -> None:
        self.client.get("/repositories", headers=self.headers, name="GET /repositories")

    @task(2)
    def view_repository(self) -> None:
        self.client.get(
            f"/repositories/{REPO}", headers=self.headers, name="GET /repositories/{name}"
        )

    @task(1)
    def save(self) -> None:
        if not self.can_save:
            return
        self.saves += 1
        body = {
            "file_path": f"load/writer-{self.number}.md",
            "content": f"# Notes of writer {self.number}\n\nDraft number {self.saves}.\n",
            "message": f"Writer {self.number}: draft {self.saves}",
        }
        with self.client.post(
            f"/repositories/{REPO}/save",
            json=body,
            headers=self.headers,
            name="POST /repositories/{name}/save",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                response.success()
            elif response.status_code in (404, 405):
                self.can_save = False  # no such endpoint (an older server): stop trying
                response.failure(f"save unavailable: {response.status_code} {response.text[:200]}")
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")

    @task(1)
    def search(self) -> None:
        self.client.get(
            f"/repositories/{REPO}/search",
            params={"q": random.choice(QUERIES)},
            headers=self.headers,
            name="GET /repositories/{name}/search",
        )
