"""The interactive API documentation: Litestar's render plugins under ``/schema``
(Swagger UI at ``/schema`` and ``/schema/swagger``, Scalar at ``/schema/scalar``, the
OpenAPI document at ``/schema/openapi.json``), and ``/docs`` pointing at Swagger UI."""

from __future__ import annotations

from litestar import get
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    ScalarRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.response import Redirect

OPENAPI_PATH = "/schema"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        SwaggerRenderPlugin(path=["/", "/swagger"]),
        ScalarRenderPlugin(),
        JsonRenderPlugin(),
    ]


@get("/docs", include_in_schema=False, sync_to_thread=False)
def docs() -> Redirect:
    """The interactive documentation (Swagger UI)."""
    return Redirect(f"{OPENAPI_PATH}/swagger")
