"""How ``icanvas serve`` runs the studio under uvicorn: guards against slow clients, a
connection limit, and forwarded client addresses taken only from trusted proxies.

- A client has ``header_timeout_s`` from its first byte (or from connecting) to send a
  request's headers, and ``body_timeout_s`` more for the body; a connection that takes longer
  is answered 408 and closed, so a client trickling bytes holds nothing for long. Between
  requests uvicorn's keep-alive timeout applies.
- More than ``max_connections`` open connections get 503 (uvicorn's ``limit_concurrency``).
- ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are read only when the connection comes from an
  address in ``trusted_proxies``; by default no address is trusted and the client address is
  the connection's (the login limits count per address).
- Requests that carry both ``Content-Length`` and ``Transfer-Encoding`` are refused by
  :class:`icanvas.serve.middleware.BodyLimit` (ambiguous framing).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from icanvas.errors import ConfigError
from icanvas.serve.settings import Settings

log = logging.getLogger("icanvas.serve")

KEEP_ALIVE_S = 5  # how long an idle connection stays open between requests, s
_TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_FINISHED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)  # the client has sent its whole request


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines on reading a request's headers and body."""

    header_timeout_s: float = 10.0  # from the first byte (or connecting) to the end of the headers, s
    body_timeout_s: float = 60.0  # from the end of the headers to the end of the body, s

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None  # "headers" or "body" while a deadline runs
        super().connection_made(transport)
        self._arm("headers", self.header_timeout_s)  # a silent new connection counts as slow headers

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE and self.conn.trailing_data[0]:
            self._arm("headers", self.header_timeout_s)
        elif state is h11.SEND_BODY:
            self._arm("body", self.body_timeout_s)
        elif state in _FINISHED:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, phase: str, seconds: float) -> None:
        if self._phase != phase:
            self._disarm()
            self._phase = phase
            self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _too_slow(self) -> None:
        self._deadline, self._phase = None, None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_ANSWER)  # nothing of an answer sent yet: say why
        self.transport.close()


def show_studio_log() -> None:
    """Print the studio's own messages (models loaded, unexpected errors) on the console, in
    uvicorn's format; once per process."""
    studio_log = logging.getLogger("icanvas")
    studio_log.setLevel(logging.INFO)
    if not studio_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        studio_log.addHandler(handler)


_MALLOC_OPTIONS = (  # glibc mallopt(param, value) for a long-running server of many threads
    (-8, 2),  # M_ARENA_MAX: two heaps shared by all threads, not up to 8 per core that each keep their peak
    (-3, 128 << 10),  # M_MMAP_THRESHOLD: blocks of 128 KB and more (image rows and planes) are mapped and given back when freed
    (-1, 4 << 20),  # M_TRIM_THRESHOLD: free heap tops beyond 4 MB are returned to the system
)


def tune_malloc() -> bool:
    """Make glibc give freed image buffers back to the system (call before threads start).

    By default the threshold for mapping big blocks rises after each one is freed, so decoded
    images end up in per-thread heaps that never shrink: the studio's peak memory then grows
    with every new size of upload. False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = all(mallopt(param, value) == 1 for param, value in _MALLOC_OPTIONS)
    if not ok:
        log.info("Could not tune the memory allocator; the server works, but may keep more memory.")
    return ok


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with the deadlines of ``settings``."""
    return type("StudioH11Protocol", (GuardedH11Protocol,), {
        "header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s})


class EnvironmentH11Protocol(GuardedH11Protocol):
    """The guarded protocol with the deadlines of the ICANVAS_* environment. Importable by name,
    so it reaches the server processes of ``icanvas serve --workers N`` (a class made by
    :func:`protocol_for` cannot be sent to another process)."""

    @property
    def header_timeout_s(self) -> float:  # type: ignore[override]
        return _environment().header_timeout_s

    @property
    def body_timeout_s(self) -> float:  # type: ignore[override]
        return _environment().body_timeout_s


@functools.cache
def _environment() -> Settings:
    return Settings()


def check_port_free(host: str, port: int) -> None:
    """Raise a clear error when ``host:port`` cannot be listened on (another program has it), before
    anything is created: uvicorn would only fail after the app had started."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a port in TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ConfigError(f"Port {port} on {host} is already in use: another program (perhaps another iCanvas studio) is listening there.",
                                  f"Stop that program, or start the studio on another port: icanvas serve --port {port + 1} (or ICANVAS_PORT={port + 1}).") from e
            raise ConfigError(f"Cannot listen on {host}:{port} ({e.strerror}).",
                              "Check --host (or ICANVAS_HOST); ports below 1024 need administrator rights.") from e


def uvicorn_options(settings: Settings, processes: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` besides the app; ``processes``: for
    several server processes, whose settings come from the environment."""
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return {
        "host": settings.host, "port": settings.port, "http": EnvironmentH11Protocol if processes else protocol_for(settings), "timeout_keep_alive": KEEP_ALIVE_S,
        "limit_concurrency": settings.max_connections, "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None, "server_header": False,
    }
