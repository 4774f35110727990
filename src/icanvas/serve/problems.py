"""HTTP-flavoured typed errors and the handlers that turn every error into ``{"detail": {problem, hint}}``.

Library code raises :class:`~icanvas.errors.ICanvasError` subclasses; the studio adds the ones
below, each with the status it answers with. Nothing reaches the browser as a traceback: an
unexpected exception is logged and answered with a plain 500.
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from icanvas.errors import ICanvasError, InputImageError, ModelNotFoundError

log = logging.getLogger("icanvas.serve")


class HTTPProblem(ICanvasError):
    """An error with an HTTP status; ``headers`` go out with the answer."""

    status = 400

    def __init__(self, problem: str, hint: str = "", *, headers: dict[str, str] | None = None, retry_after: int | None = None) -> None:
        super().__init__(problem, hint)
        self.headers = dict(headers or {})
        self.retry_after = None if retry_after is None else max(1, int(retry_after))  # s; sent as Retry-After
        if self.retry_after is not None:
            self.headers["Retry-After"] = str(self.retry_after)


class Unauthorized(HTTPProblem):
    status = 401


class Forbidden(HTTPProblem):
    status = 403


class NotFound(HTTPProblem):
    status = 404


class Conflict(HTTPProblem):
    status = 409


class PayloadTooLarge(HTTPProblem):
    status = 413


class UnsupportedImage(HTTPProblem):
    status = 415


class Unprocessable(HTTPProblem):
    status = 422


class TooManyRequests(HTTPProblem):
    status = 429

    def __init__(self, problem: str, hint: str, retry_after: int) -> None:
        super().__init__(problem, hint, retry_after=retry_after)


class Saturated(HTTPProblem):
    """Too many pictures are waiting to be made; try again shortly."""

    status = 503

    def __init__(self, retry_after: int) -> None:
        super().__init__("Lots of pictures are being made right now.", "Wait a moment and try again.", retry_after=retry_after)


class InsufficientStorage(HTTPProblem):
    status = 507


def problem_body(problem: str, hint: str = "") -> dict:
    return {"detail": {"problem": problem, "hint": hint}}


def status_of(err: ICanvasError) -> int:
    if isinstance(err, HTTPProblem):
        return err.status
    if isinstance(err, InputImageError):
        return 422
    if isinstance(err, ModelNotFoundError):
        return 404
    return 400


def _typed(_request: Request, err: ICanvasError) -> JSONResponse:
    return JSONResponse(problem_body(err.problem, err.hint), status_code=status_of(err), headers=getattr(err, "headers", None))


def _validation(_request: Request, err: RequestValidationError) -> JSONResponse:
    parts = []
    for e in err.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return JSONResponse(problem_body("Some of the information sent is missing or not right (" + "; ".join(parts) + ").",
                                     "Check the fields and try again."), status_code=422)


_HTTP_TEXT = {404: ("There is nothing here.", "Check the address."),
              405: ("That action is not allowed here.", "Check the address and method.")}


def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
    problem, hint = _HTTP_TEXT.get(err.status_code, (str(err.detail), ""))
    if isinstance(err.detail, dict) and "problem" in err.detail:
        problem, hint = err.detail["problem"], err.detail.get("hint", "")
    return JSONResponse(problem_body(problem, hint), status_code=err.status_code, headers=getattr(err, "headers", None))


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})  # what a full disk (or quota) makes writes fail with


def is_disk_full(err: BaseException) -> bool:
    """True for the errors a full disk causes: ENOSPC / EDQUOT, SQLite's "database or disk is
    full", or the studio's own 507 problem."""
    if isinstance(err, InsufficientStorage):
        return True
    if isinstance(err, OSError):
        return err.errno in DISK_FULL_ERRNOS
    if isinstance(err, OperationalError):
        return "full" in str(err.orig).lower() or (isinstance(err.orig, OSError) and err.orig.errno in DISK_FULL_ERRNOS)
    return False


def _database(request: Request, err: OperationalError) -> JSONResponse:
    if is_disk_full(err):
        return JSONResponse(problem_body("The server's disk is full, so nothing was saved.",
                                         "Ask the person who runs the studio to free some disk space."), status_code=507)
    return _unexpected(request, err)


def _unexpected(request: Request, err: Exception) -> JSONResponse:
    log.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=err)
    return JSONResponse(problem_body("Something went wrong on our side.", "Try again."), status_code=500)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ICanvasError, _typed)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(Exception, _unexpected)
