"""Files: ``GET``/``PUT /repositories/{name}/files/{path}``, blobs by id, the file list
with word counts, and the export archive. Content named by ids is sent as immutable."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, put
from litestar.params import FromPath, QueryParameter

from gitwrite.texts import decode_text
from gitwrite_sync.domain.files.schemas import FileEntry
from gitwrite_sync.domain.saves.controller import created_or_not
from gitwrite_sync.domain.saves.schemas import SaveResponse
from gitwrite_sync.errors import Malformed
from gitwrite_sync.web.caching import cached, etag_of
from gitwrite_sync.web.deps import ServicesDep, UserDep

ExplorationQuery = Annotated[str | None, QueryParameter(max_length=200)]
MessageQuery = Annotated[str, QueryParameter(max_length=10_000)]
ExpectedHead = Annotated[
    str | None, QueryParameter(pattern="^[0-9a-f]{40}$", description="a full save id")
]
At = Annotated[
    str | None,
    QueryParameter(
        name="at",
        description="a save id, an exploration or a milestone (default: the main story)",
        max_length=400,
    ),
]
# Files written by writers are shown, never run: no scripts, no sniffing.
_SAFE = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def media_type(path: str, data: bytes) -> str:
    """A content type from the file name (Litestar adds ``charset=utf-8`` to text)."""
    guessed, _ = mimetypes.guess_type(path, strict=False)
    if path.lower().endswith((".md", ".markdown")):
        guessed = "text/markdown"
    if guessed is None:
        guessed = "text/plain" if decode_text(data) is not None else "application/octet-stream"
    return guessed


class FilesController(Controller):
    path = "/repositories/{name:str}"
    tags = ("files",)

    @get("/files/{file_path:path}", summary="A file as it is at a save")
    async def read_file(
        self,
        name: FromPath[str],
        file_path: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        at: At = None,
    ) -> Response[bytes]:
        found = await services.files.read(user, name, file_path.lstrip("/"), at)
        return cached(
            request,
            found.data,
            etag_of(found.id),
            immutable=found.immutable,
            media_type=media_type(found.path, found.data),
            headers={**_SAFE, "X-GitWrite-Save": found.save},
        )

    @put(
        "/files/{file_path:path}",
        status_code=201,
        summary="Upload a file (an image...) as a new save",
        description="The body is the file's content, read as a stream and refused with 413 "
        "as soon as it passes GITWRITE_MAX_UPLOAD_BYTES.",
        request_max_body_size=None,
    )
    async def upload_file(
        self,
        name: FromPath[str],
        file_path: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        exploration: ExplorationQuery = None,
        message: MessageQuery = "",
        expected_head: ExpectedHead = None,
    ) -> Response[SaveResponse]:
        saves = services.saves
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Malformed("Content-Length is not a number")
            saves.check_size(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            saves.check_size(size)
            chunks.append(chunk)
        saved = await saves.save_bytes(
            user,
            name,
            file_path.lstrip("/"),
            b"".join(chunks),
            message=message,
            exploration=exploration,
            expected_head=expected_head,
        )
        return created_or_not(saved)

    @delete(
        "/files/{file_path:path}",
        status_code=200,
        summary="Delete a file, as a new save (answers the save)",
    )
    async def delete_file(
        self,
        name: FromPath[str],
        file_path: FromPath[str],
        user: UserDep,
        services: ServicesDep,
        exploration: ExplorationQuery = None,
        message: MessageQuery = "",
        expected_head: ExpectedHead = None,
    ) -> SaveResponse:
        return await services.saves.save_bytes(
            user,
            name,
            file_path.lstrip("/"),
            None,
            message=message,
            exploration=exploration,
            expected_head=expected_head,
        )

    @get("/blobs/{blob_id:str}", summary="A file's content by its id (cacheable forever)")
    async def read_blob(
        self,
        name: FromPath[str],
        blob_id: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
    ) -> Response[bytes]:
        data = await services.files.blob(user, name, blob_id)
        return cached(
            request,
            data,
            etag_of(blob_id),
            immutable=True,
            media_type=media_type("", data),
            headers=_SAFE,
        )

    @get("/tree", summary="Every file of a save, with its size and word count")
    async def file_list(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        at: At = None,
    ) -> Response[list[FileEntry]]:
        resolved, files = await services.files.tree(user, name, at)
        return cached(request, files, etag_of(resolved.tree), immutable=resolved.immutable)

    @get(
        "/export",
        media_type="application/zip",
        summary="Every file of a save in a zip archive (not beta readers)",
    )
    async def export(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        at: At = None,
    ) -> Response[bytes]:
        archive = await services.files.export(user, name, at)
        return cached(
            request,
            archive.data,
            etag_of("zip", archive.save),
            immutable=archive.immutable,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{archive.filename}"'},
        )
