"""What the studio's probes (fuzz.py, crash.py, abuse.py) and their tests share.

- :class:`StudioServer`: ``icanvas serve`` in a subprocess on a free local port (load.py's
  ``Server`` with the real command), which can also be killed with SIGKILL and asked for its
  memory (``VmHWM`` / ``VmRSS`` from ``/proc/<pid>/status``);
- :func:`studio`: a started server with a temporary data folder, on SQLite or on a fresh
  PostgreSQL database (:func:`fresh_database`), stopped and cleaned up afterwards;
- :class:`Browser`: one cookie jar with the CSRF token, and the sign-up / log-in / enter
  steps every probe needs (register never logs in by itself: every probe logs in after it,
  and re-reads ``GET /api/me`` after every change of rights);
- :func:`operations` and :func:`request_kwargs`: the routes of ``/openapi.json`` and valid
  requests for them, so that new routes are probed without changes here;
- :func:`table`: the markdown tables every benchmark prints.

Nothing here targets anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from load import Server, make_drawings

__all__ = ["Browser", "Op", "StudioServer", "Studio", "fresh_database", "make_drawings", "memory_mb", "operations",
           "request_kwargs", "studio", "table"]

PASSWORD = "probe password 1234"  # every probe account's password
PG_ENV = "ICANVAS_TEST_POSTGRES_URL"  # where --database postgresql finds a server (scripts/services.sh exports it)
CSRF_COOKIE = "icanvas_csrf"  # the studio's CSRF cookie, echoed in CSRF_HEADER
CSRF_HEADER = "X-CSRF-Token"
REQUEST_TIMEOUT = 60.0  # default per-request timeout of a Browser, s
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")  # methods that change something (and need the CSRF header)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    """``{"VmHWM": peak resident MB, "VmRSS": resident MB}`` of a live process ({} once it is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                out[name] = int(value.split()[0]) / 1024  # the kernel reports kB
    except OSError:
        return {}
    return out


class StudioServer(Server):
    """``icanvas serve`` on a free 127.0.0.1 port with ``data_dir``; ``env`` adds ICANVAS_* settings.

    ``ICANVAS_DATABASE_URL`` is always set ("" = SQLite in the data folder), so a database
    named in the caller's environment is never touched.
    """

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        port = free_port()
        self.url, self.log, self.data_dir = f"http://127.0.0.1:{port}", log, data_dir
        cmd = [sys.executable, "-m", "icanvas", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(cmd, env={**os.environ, "ICANVAS_DATABASE_URL": "", **(env or {})},
                                     stdout=self._log_file, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code of the server runs."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log_file.close()

    def stop(self) -> None:
        super().stop()
        self._log_file.close()


@contextmanager
def fresh_database(database: str, admin_url: str | None = None) -> Iterator[str]:
    """"" for SQLite (the server's own file), or the URL of a new PostgreSQL database, dropped afterwards.

    ``admin_url`` (default $ICANVAS_TEST_POSTGRES_URL) must be allowed to CREATE DATABASE.
    """
    if database == "sqlite":
        yield ""
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = admin_url or os.environ.get(PG_ENV)
    if not admin_url:
        sys.exit(f"--database postgresql needs a server: set {PG_ENV} (eval \"$(bash scripts/services.sh)\") or pass --postgres-url.")
    name = f"icanvas_probe_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Studio:
    """A started server and what a probe needs to know about it."""

    url: str
    info: dict  # the GET /api/studio answer
    server: StudioServer | None  # None for a server given by --url
    data_dir: Path | None  # the server's data folder (None for --url)
    database_url: str  # "" = SQLite in data_dir
    work: Path  # temporary folder for logs, removed at the end

    def start(self, env: dict[str, str] | None = None, tag: str = "") -> StudioServer:
        """(Re)start the server on the same data folder and database (a new port); returns it once it answers."""
        self.server = StudioServer(self.data_dir, self.work / f"server{tag}.log", {"ICANVAS_DATABASE_URL": self.database_url, **(env or {})})
        self.info = self.server.wait()
        self.url = self.server.url
        return self.server


@contextmanager
def studio(url: str | None = None, database: str = "sqlite", env: dict[str, str] | None = None,
           postgres_url: str | None = None, prefix: str = "icanvas-probe-") -> Iterator[Studio]:
    """A server for a probe: the one at ``url``, or ``icanvas serve`` started here on a temporary data folder."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if url:
            url = url.rstrip("/")
            yield Studio(url, httpx.get(url + "/api/studio", timeout=10).raise_for_status().json(), None, None, "", work)
            return
        with fresh_database(database, postgres_url) as db_url:
            s = Studio("", {}, None, work / "data", db_url, work)
            s.start(env)
            try:
                yield s
            finally:
                if s.server is not None:
                    s.server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def machine_line() -> str:
    import platform

    return (f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f} at start")


def env_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["ICANVAS_X=1", ...]`` from a repeatable --env option -> dict."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            sys.exit(f"--env takes NAME=VALUE, not {pair!r}")
        out[name] = value
    return out


def add_server_options(ap, url: bool = True) -> None:
    """The options every probe shares: which server, which database, extra settings."""
    if url:
        ap.add_argument("--url", help="probe this running server instead of starting one (only on 127.0.0.1)")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                    help=f"database of the started server; postgresql makes a fresh database on ${PG_ENV} (default sqlite)")
    ap.add_argument("--postgres-url", help=f"PostgreSQL URL of a role that may CREATE DATABASE (default ${PG_ENV})")
    ap.add_argument("--env", action="append", metavar="NAME=VALUE", help="extra setting for the started server, e.g. ICANVAS_GEN_WORKERS=2 (repeatable)")


def local_only(url: str | None) -> None:
    if url and httpx.URL(url).host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("The probes only target servers on this machine (127.0.0.1).")


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table, numbers right-aligned (the benchmarks' format)."""
    align = ["---:" if rows and all(isinstance(r[i], (int, float)) for r in rows) else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def unique_email(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(4)}@probe.example"


# ---------------------------------------------------------------- browsers


class Browser:
    """One browser: its own cookie jar and the current CSRF token, sent on every change.

    ``url`` may be changed (a restarted server on a new port): cookies are kept per host.
    """

    def __init__(self, url: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(timeout=timeout)
        self.csrf = ""
        self.role = "guest"
        self.email: str | None = None
        self.child_id: int | None = None

    def close(self) -> None:
        self.client.close()

    def me(self) -> dict:
        """GET /api/me: the role, and a fresh CSRF token (call after every log-in, enter or unlock)."""
        r = self.client.get(self.url + "/api/me")
        r.raise_for_status()
        body = r.json()
        self.csrf = body["csrf_token"]
        return body

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if method.upper() != "GET":
            if not self.csrf:
                self.me()
            headers.setdefault(CSRF_HEADER, self.csrf)
        return self.client.request(method, self.url + path, headers=headers, **kw)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.request("POST", path, **kw)

    def cookies(self) -> dict[str, str]:
        return {c.name: c.value for c in self.client.cookies.jar}

    def clone(self) -> Browser:
        """Another browser in the same session (its own connections, a copy of the cookies)."""
        b = Browser(self.url, self.client.timeout.read or REQUEST_TIMEOUT)
        for name, value in self.cookies().items():
            b.client.cookies.set(name, value)
        b.csrf, b.role, b.email, b.child_id = self.csrf, self.role, self.email, self.child_id
        return b

    # -------------------------------------------------------- account steps (each fails loudly)

    def _ok(self, r: httpx.Response, what: str) -> dict:
        if not r.is_success:
            raise RuntimeError(f"{what}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else {}

    def register(self, email: str, password: str = PASSWORD) -> None:
        """Create the account (whatever register answers), then log in."""
        r = self.post("/api/auth/register", json={"email": email, "password": password})
        if r.status_code >= 500 or r.status_code in (401, 403, 422, 429):
            raise RuntimeError(f"register {email}: {r.status_code} {r.text[:300]}")
        self.login(email, password)

    def login(self, email: str, password: str = PASSWORD) -> None:
        self._ok(self.post("/api/auth/login", json={"email": email, "password": password}), f"log in {email}")
        self.email, self.child_id = email, None
        self.role = self.me()["role"]

    def add_child(self, nickname: str, pin: list[str], avatar: str) -> int:
        body = self._ok(self.post("/api/children", json={"nickname": nickname, "avatar": avatar, "pin": pin}), f"add child {nickname}")
        return body["id"]

    def enter(self, child_id: int, pin: list[str]) -> None:
        self._ok(self.post(f"/api/children/{child_id}/enter", json={"pin": pin}), f"enter child {child_id}")
        me = self.me()
        self.role, self.child_id = me["role"], (me.get("child") or {}).get("id")


def guest(url: str) -> Browser:
    b = Browser(url)
    b.me()
    return b


def parent(url: str, email: str, password: str = PASSWORD) -> Browser:
    """A new browser with a new parent account, logged in."""
    b = Browser(url)
    b.me()
    b.register(email, password)
    return b


def parent_session(url: str, email: str, password: str = PASSWORD) -> Browser:
    """A new browser logged in to an existing parent account."""
    b = Browser(url)
    b.me()
    b.login(email, password)
    return b


def child(url: str, email: str, child_id: int, pin: list[str], password: str = PASSWORD) -> Browser:
    """A new browser logged in as ``email`` with the child profile ``child_id`` entered."""
    b = Browser(url)
    b.me()
    b.login(email, password)
    b.enter(child_id, pin)
    return b


def pins(info: dict, n: int, seed: int = 0) -> list[list[str]]:
    """``n`` different three-icon picture PINs from the studio's icons."""
    icons = info["pin_icons"]
    out = []
    for i in range(n):
        k = seed + i
        out.append([icons[k % len(icons)], icons[(k // len(icons) + 1) % len(icons)], icons[(k + 5) % len(icons)]])
    return out


def family_with_child(url: str, info: dict, tag: str, nickname: str = "Probe") -> tuple[Browser, Browser, int, list[str]]:
    """A new parent account with one child profile: (parent browser, child browser, child id, PIN)."""
    email = unique_email(tag)
    pin = pins(info, 1, seed=secrets.randbelow(100))[0]
    p = parent(url, email)
    cid = p.add_child(nickname, pin, info["avatars"][0])
    return p, child(url, email, cid, pin), cid, pin


# ---------------------------------------------------------------- requests from /openapi.json


@dataclass
class Op:
    """One route of the API schema."""

    method: str
    path: str
    params: list[dict]  # OpenAPI parameter objects (name, in, required, schema)
    body: dict | None  # the request body schema
    body_type: str | None  # "json" or "multipart"

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def id_params(self) -> list[dict]:
        return [p for p in self.params if p["name"].endswith("_id") and p["in"] in ("path", "query")]

    def file_fields(self, spec: dict) -> list[str]:
        """The multipart fields that take a file."""
        if self.body_type != "multipart":
            return []
        return [k for k, v in resolve(self.body, spec).get("properties", {}).items() if is_file(resolve(v, spec))]


def operations(spec: dict) -> list[Op]:
    """Every GET/POST/PUT/PATCH/DELETE route of an OpenAPI schema, in its order."""
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method.upper() not in ("GET", *UNSAFE):
                continue
            content = (op.get("requestBody") or {}).get("content", {})
            body, body_type = None, None
            if "application/json" in content:
                body, body_type = content["application/json"]["schema"], "json"
            elif "multipart/form-data" in content:
                body, body_type = content["multipart/form-data"]["schema"], "multipart"
            ops.append(Op(method.upper(), path, op.get("parameters", []), body, body_type))
    return ops


def resolve(schema: dict, spec: dict) -> dict:
    """``schema`` with $refs followed and Optional[X] (anyOf with null) taken as X."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        schema = resolve(next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0]), spec)
    return schema


def is_file(schema: dict) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


def example(schema: dict, spec: dict, values: dict, name: str = "") -> object:
    """A valid value for ``schema``: ``values[name]`` where given, else the smallest thing the schema allows."""
    if name in values:
        return values[name]
    s = resolve(schema, spec)
    kind = s.get("type")
    if "enum" in s:
        return s["enum"][0]
    if kind == "object":
        return {k: example(v, spec, values, k) for k, v in s.get("properties", {}).items() if k in s.get("required", [])}
    if kind == "array":
        return [example(s.get("items", {}), spec, values)] * max(1, s.get("minItems", 1))
    if kind == "integer":
        return int(s.get("minimum", 0))
    if kind == "number":
        return float(s.get("minimum", 0))
    if kind == "boolean":
        return True
    return "probe"[: s.get("maxLength", 5)].ljust(s.get("minLength", 0), "x")


def form_fields(op: Op, spec: dict, values: dict) -> dict[str, str]:
    """The non-file multipart fields of ``op`` that are required or named in ``values``, as text."""
    s = resolve(op.body, spec) if op.body_type == "multipart" else {}
    files = set(op.file_fields(spec))
    return {k: str(example(v, spec, values, k)) for k, v in s.get("properties", {}).items()
            if k not in files and (k in s.get("required", []) or k in values)}


def request_kwargs(op: Op, spec: dict, values: dict, file: bytes) -> dict:
    """httpx keyword arguments with a valid body for ``op``: required fields (and those in ``values``,
    by field name), each required file field sent as ``file`` (a PNG)."""
    if op.body is None:
        return {}
    if op.body_type == "json":
        return {"json": example(op.body, spec, values)}
    required = resolve(op.body, spec).get("required", [])
    files = {k: (f"{k}.png", file, "image/png") for k in op.file_fields(spec) if k in required}
    return {"files": files, "data": form_fields(op, spec, values)}
