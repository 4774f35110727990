"""Hostile uploads against every upload route of the studio: answers by status, drops, memory.

    python benchmarks/fuzz.py                          # own server, 10,000 uploads, 4 client threads
    python benchmarks/fuzz.py --n 2000 --threads 8
    python benchmarks/fuzz.py --kinds 'png-*' 'bomb-*' --n 500
    python benchmarks/fuzz.py --url http://127.0.0.1:8000 --pid 1234   # a running `icanvas serve`
    python benchmarks/fuzz.py --list                   # the upload kinds

Without ``--url`` the script starts ``icanvas serve`` on a free 127.0.0.1 port with a temporary
data folder (``--database postgresql`` on a fresh PostgreSQL database; ``--env`` adds settings),
signs up a parent, creates a child and enters it. The upload routes are read from
/openapi.json: every multipart route and each of its file fields (POST /api/generate drawing,
POST /api/recognize drawing, POST /api/creations drawing and picture); the other fields get
valid values. Then ``--threads`` clients (each its own connections, all in that child's
session) send ``--n`` uploads: upload kind ``i % K`` of the ``K`` kinds (``--list``; built in
hostile.py) to route ``(i + i // K) % R`` of the ``R`` routes, so every kind meets every route.

The kinds are broken and hostile files (truncated or corrupt PNG/JPEG/WebP, wrong magic, GIF,
BMP, TIFF, PDF, SVG, zero bytes, decompression bombs, strips of 1x16,000,000 pixels, 16-bit,
palette, alpha, CMYK and grey modes, EXIF junk, oversized files, empty canvases) and broken
requests (wrong content types, missing or huge fields, multipart garbage, Content-Length
lies sent over a raw socket). Every 4xx is a fine answer. A failure is any 5xx, a connection
the server dropped without answering (a raw request whose body the client cut short may be
closed unanswered: counted as "closed"), a timeout, or a server that died; the script then
exits with status 1 (also when ``--max-growth-mb`` is given and the server's peak memory grew by
more). The server's memory is read from /proc/<pid>/status: VmRSS and VmHWM (peak) at start
(after a warm-up of good uploads on every route from every thread) and end; per kind, the largest rise of VmHWM seen across one upload (with several threads a
rise is credited to whichever uploads were in flight).
"""

from __future__ import annotations

import argparse
import fnmatch
import random
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

import studio_probe as sp
from hostile import KINDS, Ctx, Route, Upload, drawing_jpeg, drawing_png, drawing_webp, upload_routes

MAX_UPLOAD_BYTES = 8 * 2**20  # the server's default upload limit (ICANVAS_MAX_UPLOAD_BYTES), bytes
RAW_TIMEOUT = 30.0  # how long a raw-socket request waits for an answer, s
WARM_ROUNDS = 3  # good uploads per client thread and route before the server's memory is first read


# ================================================================ sending


@dataclass
class Result:
    kind: str
    route: str
    outcome: str  # HTTP status as text, "dropped", "timeout" or "closed" (raw request cut short, no answer)
    ms: float
    hwm_rise_mb: float = 0.0


def send_raw(b: sp.Browser, ctx: Ctx, up: Upload) -> str:
    """Send a hand-framed request over a socket; the first answer's status, or "closed"."""
    lines, body, half_close = up.raw
    n = len(body)
    lines = [h.format(n=n, n_short=max(1, n // 3), n_long=n * 2) if "{" in h else h for h in lines]
    url = httpx.URL(b.url)
    cookie = "; ".join(f"{k}={v}" for k, v in b.cookies().items())
    head = [f"POST {ctx.path} HTTP/1.1", f"Host: {url.host}:{url.port}", f"Cookie: {cookie}", f"{sp.CSRF_HEADER}: {b.csrf}",
            "Content-Type: multipart/form-data; boundary=probeboundary", "Connection: close", *lines]
    with socket.create_connection((url.host, url.port), timeout=RAW_TIMEOUT) as s:
        try:
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        except OSError:
            pass  # the server may answer and close before taking the whole body: read its answer
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        got = b""
        try:
            while b"\r\n" not in got:
                block = s.recv(65536)
                if not block:
                    break
                got += block
        except ConnectionResetError:
            pass
    if not got.startswith(b"HTTP/"):
        return "closed" if half_close else "dropped"
    return got.split(b" ", 2)[1].decode("ascii", "replace")


def send(b: sp.Browser, ctx: Ctx, up: Upload) -> str:
    if up.raw is not None:
        return send_raw(b, ctx, up)
    headers = dict(up.headers)
    kw: dict = {}
    if up.content is not None:
        content = up.content
        kw["content"] = (content[i:i + 65536] for i in range(0, len(content), 65536)) if up.stream else content
    else:
        kw["files"], kw["data"] = up.files, up.data
    r = b.post(ctx.path, headers=headers, **kw)
    return str(r.status_code)


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    mem_start: dict[str, float] = field(default_factory=dict)
    mem_end: dict[str, float] = field(default_factory=dict)
    server_died: bool = False
    wall_s: float = 0.0
    max_growth_mb: float | None = None  # the peak memory growth allowed (None: only reported)

    @property
    def outcomes(self) -> Counter:
        return Counter(r.outcome for r in self.results)

    @property
    def server_errors(self) -> int:
        return sum(1 for r in self.results if r.outcome.startswith("5"))

    @property
    def dropped(self) -> int:
        return sum(1 for r in self.results if r.outcome in ("dropped", "timeout"))

    @property
    def growth_mb(self) -> float | None:
        """Peak resident memory at the end over resident memory at the start, MB."""
        if not (self.mem_start and self.mem_end):
            return None
        return self.mem_end["VmHWM"] - self.mem_start["VmRSS"]

    @property
    def too_big(self) -> bool:
        return self.max_growth_mb is not None and self.growth_mb is not None and self.growth_mb > self.max_growth_mb

    @property
    def failed(self) -> bool:
        return self.server_errors > 0 or self.dropped > 0 or self.server_died or self.too_big


def routes_of(url: str, info: dict) -> list[Route]:
    """The studio's upload routes (from its /openapi.json), other fields filled with valid values."""
    spec = httpx.get(url + "/openapi.json", timeout=30).raise_for_status().json()
    kind = info["kinds"][0]["kind"] if info.get("kinds") else "cat"
    return upload_routes(spec, {"kind": kind, "colours": "1", "seconds": "12"})


def schedule(n: int, kinds: list[str], routes: int) -> list[tuple[str, int]]:
    """(kind, route index) of upload ``i``: every kind in turn, neighbouring kinds and each next round on the next route."""
    k = len(kinds)
    return [(kinds[i % k], (i % k + i // k) % routes) for i in range(n)]


def warm_up(child: sp.Browser, routes: list[Route], threads: int, rounds: int = WARM_ROUNDS) -> None:
    """Good uploads (PNG, JPEG, WebP drawings) from ``threads`` clients at once, one route after the
    other and then all routes mixed, so that the server has loaded its models, grown its model
    arena to its largest batch and started its threads before its memory is measured: growth
    after this is what the hostile uploads cost."""
    goods = [drawing_png(), drawing_jpeg(), drawing_webp()]
    phases = [[[r] * rounds for _ in range(threads)] for r in routes]  # every thread on one route: the largest batches
    phases.append([[routes[(i + j) % len(routes)] for j in range(rounds * len(routes))] for i in range(threads)])  # all mixed

    def worker(i: int, todo: list[Route]) -> None:
        b = child.clone()
        try:
            for j, route in enumerate(todo):
                ctx = Ctx(route, MAX_UPLOAD_BYTES, random.Random(j))
                send(b, ctx, ctx.image(goods[(i + j) % len(goods)]))
        finally:
            b.close()

    for phase in phases:
        pool = [threading.Thread(target=worker, args=(i, todo), daemon=True) for i, todo in enumerate(phase)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()


def fuzz(child: sp.Browser, routes: list[Route], n: int, kinds: list[str], threads: int = 4, pid: int | None = None,
         max_bytes: int = MAX_UPLOAD_BYTES, seed: int = 0, max_seconds: float = 3600.0, alive: Callable[[], bool] = lambda: True,
         progress: Callable[[int], None] | None = None, max_growth_mb: float | None = None) -> Run:
    """Send ``n`` hostile uploads from ``threads`` clones of ``child``'s browser; returns every answer."""
    for name in kinds:  # build the files once, before the clock starts
        KINDS[name](Ctx(routes[0], max_bytes, random.Random(0)))
    jobs = schedule(n, kinds, len(routes))
    run, lock, nxt = Run(max_growth_mb=max_growth_mb), threading.Lock(), iter(range(n))
    warm_up(child, routes, threads)
    run.mem_start = sp.memory_mb(pid) if pid else {}
    stop = threading.Event()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        b = child.clone()
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                kind, r = jobs[i]
                ctx = Ctx(routes[r], max_bytes, random.Random(seed * 1_000_003 + i))
                up = KINDS[kind](ctx)
                before = sp.memory_mb(pid).get("VmHWM", 0.0) if pid else 0.0
                t = time.perf_counter()
                try:
                    outcome = send(b, ctx, up)
                except (httpx.TimeoutException, socket.timeout, TimeoutError):
                    outcome = "timeout"
                except (httpx.TransportError, OSError):
                    outcome = "dropped"
                ms = (time.perf_counter() - t) * 1000
                rise = (sp.memory_mb(pid).get("VmHWM", before) - before) if pid else 0.0
                with lock:
                    run.results.append(Result(kind, routes[r].name, outcome, ms, rise))
                    done = len(run.results)
                if outcome in ("dropped", "timeout") and not alive():
                    run.server_died = True
                    stop.set()
                if progress:
                    progress(done)
        finally:
            b.close()

    t = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    run.wall_s = time.perf_counter() - t
    run.mem_end = sp.memory_mb(pid) if pid else {}
    if not alive():
        run.server_died = True
    return run


# ================================================================ report


def klass(outcome: str) -> str:
    return outcome[0] + "xx" if outcome[:1].isdigit() else outcome


def report(run: Run) -> str:
    out = []
    outcomes = run.outcomes
    out.append(sp.table(["answer", "count"], [[k, v] for k, v in sorted(outcomes.items(), key=lambda kv: (not kv[0][0].isdigit(), kv[0]))]))
    ms = max(run.results, key=lambda r: r.ms) if run.results else None
    s, e = run.mem_start, run.mem_end
    rows = [["uploads", len(run.results)], ["wall s", round(run.wall_s, 1)], ["5xx", run.server_errors],
            ["dropped or timed out", run.dropped], ["server died", "yes" if run.server_died else "no"],
            ["slowest answer ms", f"{ms.ms:.0f} ({ms.kind} to {ms.route})" if ms else "-"]]
    if s and e:
        rows += [["VmRSS start -> end MB", f"{s['VmRSS']:.0f} -> {e['VmRSS']:.0f} ({e['VmRSS'] - s['VmRSS']:+.0f})"],
                 ["VmHWM start -> end MB", f"{s['VmHWM']:.0f} -> {e['VmHWM']:.0f} ({e['VmHWM'] - s['VmHWM']:+.0f})"],
                 ["peak RSS growth MB", f"{run.growth_mb:.0f}" + (f" (limit {run.max_growth_mb:.0f})" if run.max_growth_mb else "")]]
    else:
        rows.append(["memory", "not read (pass --pid for a server given by --url)"])
    out.append(sp.table(["", ""], rows))
    by_route: dict[str, list[Result]] = defaultdict(list)
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in run.results:
        by_route[r.route].append(r)
        by_kind[r.kind].append(r)
    out.append(sp.table(["route", "sent", "2xx", "4xx", "5xx", "dropped", "worst ms"],
                        [[k, len(v), *(sum(1 for r in v if klass(r.outcome) == c) for c in ("2xx", "4xx", "5xx")),
                          sum(1 for r in v if r.outcome in ("dropped", "timeout")), round(max(r.ms for r in v))]
                         for k, v in by_route.items()]))
    rows = []
    for k, v in by_kind.items():
        common = ", ".join(f"{o}x{c}" for o, c in Counter(r.outcome for r in v).most_common(3))
        worst = max(v, key=lambda r: r.ms)
        rows.append([k, len(v), sum(1 for r in v if klass(r.outcome) == "5xx"), sum(1 for r in v if r.outcome in ("dropped", "timeout")),
                     common, f"{worst.ms:.0f} ({worst.route})", round(max(r.hwm_rise_mb for r in v), 1)])
    out.append(sp.table(["upload kind", "sent", "5xx", "dropped", "answers", "worst ms", "HWM rise MB"], rows))
    return "\n\n".join(out)


def pick_kinds(patterns: list[str] | None) -> list[str]:
    if not patterns:
        return list(KINDS)
    kinds = [k for k in KINDS if any(fnmatch.fnmatch(k, p) for p in patterns)]
    if not kinds:
        sys.exit(f"No upload kind matches {' '.join(patterns)}; see --list.")
    return kinds


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="uploads to send (default 10000)")
    ap.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--kinds", nargs="+", metavar="GLOB", help="only these upload kinds (shell patterns, e.g. 'png-*')")
    ap.add_argument("--list", action="store_true", help="print the upload kinds and exit")
    ap.add_argument("--pid", type=int, help="process id of the server given by --url, to read its memory")
    ap.add_argument("--max-upload-bytes", type=int, default=MAX_UPLOAD_BYTES,
                    help="the server's upload limit, for the oversized files (default 8 MiB, the server's default)")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="stop sending after this long (default 3600)")
    ap.add_argument("--max-growth-mb", type=float, help="fail when the server's peak memory grows by more than this, MB (default: only report)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random corruptions")
    sp.add_server_options(ap)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    if args.list:
        print("\n".join(KINDS))
        return
    sp.local_only(args.url)
    kinds = pick_kinds(args.kinds)
    env = sp.env_pairs(args.env)
    if "ICANVAS_MAX_UPLOAD_BYTES" in env:
        args.max_upload_bytes = int(env["ICANVAS_MAX_UPLOAD_BYTES"])
    with sp.studio(args.url, args.database, env, args.postgres_url, prefix="icanvas-fuzz-") as s:
        pid = s.server.pid if s.server else args.pid
        print(sp.machine_line())
        print(f"Server: {s.url} ({'started here, ' + args.database if s.server else 'given'}); kinds it draws: "
              f"{', '.join(k['kind'] for k in s.info['kinds']) or 'none'}")
        routes = routes_of(s.url, s.info)
        print(f"Sending {args.n} uploads of {len(kinds)} kinds to {len(routes)} routes ({', '.join(r.name for r in routes)}) "
              f"from {args.threads} threads ...", flush=True)
        _, kid, _, _ = sp.family_with_child(s.url, s.info, "fuzz")
        step = max(1, args.n // 10)

        def progress(done: int) -> None:
            if done % step == 0:
                print(f"  {done}/{args.n}", flush=True)

        alive = s.server.alive if s.server else (lambda: True)
        run = fuzz(kid, routes, args.n, kinds, args.threads, pid, args.max_upload_bytes, args.seed, args.max_seconds, alive, progress,
                   args.max_growth_mb)
        kid.close()
        print()
        print(report(run))
        if s.server and run.failed:
            print(f"\nServer log (last lines):\n{s.server.log.read_text()[-4000:]}")
    print("\nFAILED: 5xx answers, dropped connections, a dead server or too much memory (see above)." if run.failed
          else "\nOK: no 5xx, nothing dropped.")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()
