"""The OpenAPI document lists every team endpoint; /docs leads to the interactive page."""

from __future__ import annotations

from tests.integration.rest.conftest import Team

TEAM_PATHS = {
    "/repositories/{name}",
    "/repositories/{name}/save",
    "/repositories/{name}/files/{file_path}",
    "/repositories/{name}/blobs/{blob_id}",
    "/repositories/{name}/tree",
    "/repositories/{name}/export",
    "/repositories/{name}/history",
    "/repositories/{name}/compare",
    "/repositories/{name}/explorations",
    "/repositories/{name}/explorations/{exploration}",
    "/repositories/{name}/explorations/{exploration}/merge",
    "/repositories/{name}/milestones",
    "/repositories/{name}/annotations",
    "/repositories/{name}/annotations/{annotation_id}",
    "/repositories/{name}/annotations/{annotation_id}/replies",
    "/repositories/{name}/annotations/{annotation_id}/status",
    "/repositories/{name}/collaborators",
    "/repositories/{name}/collaborators/{user_id}",
}


def test_openapi_and_docs(team: Team) -> None:
    spec = team.get(None, "/schema/openapi.json").json()
    assert set(spec["paths"]) >= TEAM_PATHS
    files = spec["paths"]["/repositories/{name}/files/{file_path}"]
    assert {"get", "put", "delete"} <= set(files)
    assert {"get", "delete"} <= set(spec["paths"]["/repositories/{name}"])
    docs = team.get(None, "/docs", follow_redirects=False)
    assert docs.status_code in (301, 302, 307, 308)
    page = team.get(None, docs.headers["location"])
    assert page.status_code == 200 and "swagger" in page.text.lower()
