"""ASGI middleware of the studio: security headers on every answer, and a request-body size limit."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from icanvas.serve.docs import DOCS_PATH
from icanvas.serve.problems import problem_body

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")  # the page loads nothing from elsewhere
_DOCS_PATHS = (DOCS_PATH,)  # the API page starts Swagger UI with an inline script: no CSP there (its assets are our own)


class SecurityHeaders:
    """Adds nosniff, frame, referrer and content-security headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "").startswith(_DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin")]
                if not docs:
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with a 413 problem: at once when Content-Length
    says so, else as soon as the streamed body grows past the limit. A request that gives both
    Content-Length and Transfer-Encoding is refused with 400 (its framing is ambiguous: the
    way of request smuggling)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _problem(self) -> tuple[str, str]:
        return (f"The request is larger than {self.max_bytes / 2**20:.1f} MB.", "Send a smaller image.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and "transfer-encoding" in headers:
            body = problem_body("The request gives both Content-Length and Transfer-Encoding.", "Send one of them.")
            await JSONResponse(body, status_code=400, headers={"Connection": "close"})(scope, receive, send)
            return
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            problem, hint = self._problem()
            await JSONResponse(problem_body(problem, hint), status_code=413, headers={"Connection": "close"})(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    problem, hint = self._problem()
                    raise HTTPException(413, detail={"problem": problem, "hint": hint})
            return message

        await self.app(scope, counted, send)
