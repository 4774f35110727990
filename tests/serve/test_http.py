"""The HTTP server guards of `icanvas serve`: deadlines for slow clients, a connection limit,
forwarded addresses only from trusted proxies, and no ambiguous request framing."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI, Request

from icanvas.serve.http import uvicorn_options
from icanvas.serve.middleware import BodyLimit
from icanvas.serve.settings import Settings


def echo_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, max_bytes=10_000)

    @app.get("/who")
    def who(request: Request) -> dict:
        return {"client": request.client.host if request.client else None}

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"got": len(await request.body())}

    return app


@contextmanager
def running(tmp_path, **settings) -> Iterator[int]:
    """An echo app served by uvicorn with the studio's options on a free port of 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    opts = uvicorn_options(Settings(data_dir=tmp_path, host="127.0.0.1", port=port, **settings))
    server = uvicorn.Server(uvicorn.Config(echo_app(), log_level="warning", **opts))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def read_all(s: socket.socket, wait: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (or ``wait`` s pass)."""
    s.settimeout(wait)
    chunks = []
    try:
        while chunk := s.recv(65536):
            chunks.append(chunk)
    except TimeoutError:
        chunks.append(b"<still open>")
    return b"".join(chunks)


def one_answer(s: socket.socket) -> bytes:
    """One whole answer (headers and its Content-Length of body) from a kept-alive connection."""
    s.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def request(port: int, raw: bytes) -> bytes:
    with connect(port) as s:
        s.sendall(raw)
        return read_all(s, 5)


def test_a_normal_request_is_answered(tmp_path):
    with running(tmp_path) as port:
        answer = request(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    assert answer.startswith(b"HTTP/1.1 200") and b'{"got":5}' in answer


def test_headers_trickled_byte_by_byte_are_cut_off(tmp_path):
    with running(tmp_path, header_timeout_s=0.5) as port, connect(port) as s:
        started = time.monotonic()
        closed = False
        for byte in b"GET /who HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                s.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3:
                break
        answer = read_all(s, 3)
    assert closed or answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < 4


def test_a_silent_connection_is_closed(tmp_path):
    with running(tmp_path, header_timeout_s=0.5) as port, connect(port) as s:
        started = time.monotonic()
        answer = read_all(s, 3)
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 2


def test_a_body_trickled_slowly_is_cut_off(tmp_path):
    with running(tmp_path, header_timeout_s=5, body_timeout_s=0.5) as port, connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        started = time.monotonic()
        try:
            for _ in range(40):
                s.sendall(b"x")
                time.sleep(0.05)
        except OSError:
            pass
        answer = read_all(s, 3)
    assert b"<still open>" not in answer and b'"got"' not in answer
    assert time.monotonic() - started < 4


def test_keep_alive_requests_each_get_fresh_time(tmp_path):
    with running(tmp_path, header_timeout_s=2.0) as port, connect(port) as s:
        for _ in range(3):  # three requests on one connection, 1 s apart: each within its own deadline, not all in one
            time.sleep(1.0)
            s.sendall(b"GET /who HTTP/1.1\r\nHost: x\r\n\r\n")
            assert one_answer(s).startswith(b"HTTP/1.1 200")


def test_content_length_with_transfer_encoding_is_refused(tmp_path):
    raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n0\r\n\r\n")
    with running(tmp_path) as port:
        answer = request(port, raw)
    assert answer.startswith(b"HTTP/1.1 400") and b"Transfer-Encoding" in answer and b'"got"' not in answer


@pytest.mark.parametrize("trusted,expected", [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")])
def test_forwarded_addresses_only_from_trusted_proxies(tmp_path, trusted, expected):
    with running(tmp_path, trusted_proxies=trusted) as port:
        answer = request(port, b"GET /who HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n")
    assert f'"client":"{expected}"'.encode() in answer


def test_connections_beyond_the_limit_get_503(tmp_path):
    with running(tmp_path, max_connections=2, header_timeout_s=5) as port:
        idle = [connect(port), connect(port)]
        time.sleep(0.2)
        try:
            answer = request(port, b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        finally:
            for s in idle:
                s.close()
        assert answer.startswith(b"HTTP/1.1 503")
        time.sleep(0.2)
        assert request(port, b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
