"""The API page (/docs): Swagger UI served by the studio itself from the copy in the
fastapi-offline package, so it works with no internet connection (FastAPI's default page loads
it from a CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"  # the API page
ASSETS_PATH = "/docs-assets"  # Swagger UI's script and style sheet


def install_docs(app: FastAPI) -> None:
    """Serve the API page and its assets; the app must be made with ``docs_url=None, redoc_url=None``."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css (Swagger UI 5, Apache-2.0)
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_page() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title}: API",
                                   swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                                   swagger_favicon_url="/static/icons/logo.svg")
