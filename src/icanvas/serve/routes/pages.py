"""The drawing page itself: ``GET /`` answers ``static/index.html`` (looked up on every request)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from icanvas.serve.problems import NotFound

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # the page, its scripts, styles and icons

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise NotFound("The drawing page is not installed.", "Reinstall iCanvas; the API under /api works without it.")
    return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})
