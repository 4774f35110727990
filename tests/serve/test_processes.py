"""Two studio server processes on one database and one data folder, as `icanvas serve --workers 2`
runs them (or two machines behind a load balancer, sharing PostgreSQL and a files folder): what
a family does on one is seen by the other, a lock-out on one holds on the other, and a deletion
on one removes the files for both. Runs on SQLite and, when it is there, on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.serve.conftest import PASSWORD, PIN, both_databases, drawing_png

START_S = 180  # longest wait for a server process to answer (it loads the bundled models), s
WRONG_PIN = ["moon", "moon", "moon"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server at {url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/me", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the server at {url} did not answer in {START_S} s: {log.read_text()[-2000:]}")


@pytest.fixture
def two_servers(tmp_path, database_url):
    """URLs of two `icanvas serve` processes sharing ``database_url`` and one data folder."""
    env = {**os.environ, "ICANVAS_DATABASE_URL": database_url, "ICANVAS_DATA_DIR": str(tmp_path / "data"), "ICANVAS_DISK_RESERVE_MB": "1"}
    servers = []
    for _ in range(2):
        port = _free_port()
        log = tmp_path / f"server-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "icanvas", "serve", "--port", str(port)], env=env,
                                       stdout=out, stderr=subprocess.STDOUT)
        servers.append((f"http://127.0.0.1:{port}", process, log))
    try:
        for url, process, log in servers:
            _wait(url, process, log)
        yield [url for url, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.terminate()
        for _, process, _ in servers:
            process.wait(timeout=30)


class Family:
    """One browser (one cookie jar) whose requests a load balancer sends to either server."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=60)

    def call(self, method: str, url: str, **kw) -> httpx.Response:
        headers = {}
        if method != "GET":
            token = self.http.cookies.get("icanvas_csrf")
            if token is None:
                self.http.get(url.split("/api/")[0] + "/api/me")
                token = self.http.cookies.get("icanvas_csrf")
            headers["X-CSRF-Token"] = token
        return self.http.request(method, url, headers=headers, **kw)


@both_databases
def test_two_server_processes_share_logins_creations_lockouts_and_deletions(two_servers, tmp_path):
    a, b = two_servers
    family = Family()
    assert family.call("POST", f"{a}/api/auth/register", json={"email": "p@example.com", "password": PASSWORD}).status_code == 202
    assert family.call("POST", f"{b}/api/auth/login", json={"email": "p@example.com", "password": PASSWORD}).status_code == 200
    r = family.call("POST", f"{a}/api/children", json={"nickname": "Ari", "avatar": "fox", "pin": PIN})  # logged in on b
    assert r.status_code == 201, r.text
    child = r.json()["id"]
    assert family.call("POST", f"{b}/api/children/{child}/enter", json={"pin": PIN}).status_code == 200

    # the child saves on a and finds the drawing on both
    r = family.call("POST", f"{a}/api/creations", files={"drawing": ("d.png", drawing_png(), "image/png")},
                    data={"kind": "cat", "colours": "1", "seconds": "20"})
    assert r.status_code == 201, r.text
    creation = r.json()["creation"]
    for url in (a, b):
        listed = family.call("GET", f"{url}/api/creations").json()
        assert [c["id"] for c in listed] == [creation["id"]]
        assert family.call("GET", url + creation["drawing_url"]).content.startswith(b"\x89PNG")
    files = [p for p in (tmp_path / "data").rglob("*.png")]
    assert len(files) == 1

    # a second child profile's wrong PINs on a lock it on b as well
    family.call("POST", f"{b}/api/parent/unlock", json={"password": PASSWORD})
    r = family.call("POST", f"{b}/api/children", json={"nickname": "Bo", "avatar": "panda", "pin": PIN})
    bo = r.json()["id"]
    statuses = [family.call("POST", f"{a}/api/children/{bo}/enter", json={"pin": WRONG_PIN}).status_code for _ in range(5)]
    assert statuses == [403] * 5, statuses
    assert family.call("POST", f"{b}/api/children/{bo}/enter", json={"pin": PIN}).status_code == 429

    # the parent deletes the drawing on b: it is gone from a, and its file from the shared folder
    assert family.call("DELETE", f"{b}/api/creations/{creation['id']}").status_code == 204
    assert family.call("GET", a + creation["drawing_url"]).status_code == 404
    assert family.call("GET", f"{a}/api/creations", params={"child_id": child}).json() == []
    assert not files[0].exists()


def _children(pid: int) -> set[int]:
    """Process ids of ``pid``'s child processes (Linux /proc)."""
    out = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out |= {int(c) for c in f.read().split()}
    return out


def test_serve_workers_runs_that_many_server_processes(tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "ICANVAS_DISK_RESERVE_MB": "1"}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "icanvas", "serve", "--port", str(port), "--workers", "2",
                                    "--data-dir", str(tmp_path / "data")], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + START_S
        while log.read_text().count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        text = log.read_text()
        assert text.count("Application startup complete") == 2 and text.count("Studio ready") == 2, text[-2000:]
        assert "2 processes share one SQLite file" in text  # the advice to use PostgreSQL
        servers = {c for c in _children(process.pid) if "spawn" in open(f"/proc/{c}/cmdline").read()}
        assert len(servers) == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert all(not os.path.exists(f"/proc/{c}") for c in servers)  # the server processes stop with it
