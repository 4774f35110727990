"""HTTP routes of the studio; :data:`api` collects every ``/api`` route."""

from __future__ import annotations

from fastapi import APIRouter

from icanvas.serve.routes import auth, children, creations, portraits, progress, studio

api = APIRouter()
for module in (studio, auth, children, creations, progress, portraits):
    api.include_router(module.router)
