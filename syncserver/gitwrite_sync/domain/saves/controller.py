"""``POST /repositories/{name}/save``: the server makes a save of one file's new text."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.params import FromPath, JSONBody

from gitwrite_sync.domain.saves.schemas import SaveRequest, SaveResponse
from gitwrite_sync.web.deps import ServicesDep, UserDep


class SaveController(Controller):
    path = "/repositories/{name:str}"
    tags = ("saves",)

    @post(
        "/save",
        status_code=201,
        summary="Save a file's new text as a new save (200 with saved=false if unchanged)",
        description=(
            "Owners and editors save on the main story and explorations; writers on "
            "explorations. With `expected_head`, answers 409 `stale` (details.current) "
            "unless the exploration's last save is that one."
        ),
    )
    async def save(
        self, name: FromPath[str], data: JSONBody[SaveRequest], user: UserDep, services: ServicesDep
    ) -> Response[SaveResponse]:
        saved = await services.saves.save_text(
            user,
            name,
            data.file_path,
            data.content,
            message=data.message,
            exploration=data.exploration,
            expected_head=data.expected_head,
        )
        return created_or_not(saved)


def created_or_not(saved: SaveResponse) -> Response[SaveResponse]:
    """201 for a new save, 200 when the file already held that content."""
    return Response(saved, status_code=201 if saved.saved else 200)
