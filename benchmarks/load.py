"""Load on the web studio: N simulated children drawing and asking for pictures, printed as a table.

    python benchmarks/load.py                                  # own server, N = 1, 10, 50, 30 s each
    python benchmarks/load.py --children 1 10 --duration 60 --gen-max-batch 4 --gen-window-ms 50
    python benchmarks/load.py --url http://127.0.0.1:8000      # an already running `icanvas serve`
    python benchmarks/load.py --url http://a:8000 --url http://b:8000   # children spread over several servers
    python benchmarks/load.py --tiny                           # untrained 256 px model, same cost per picture

Without ``--url`` the script starts its own server (``uvicorn --factory icanvas.serve.app:create_app``)
on a free port with a temporary data folder, the ``--gen-*`` settings passed as ``ICANVAS_GEN_*``
and ``--model-path`` as ``ICANVAS_MODEL_PATH``, and stops it at the end. When that server lists no
kinds (no sketch model installed) it falls back to ``--tiny``: an untrained class-conditional
U-Net with the bundled model's shape (256 px, ngf 32, max 128 channels, 6 kinds).

Each child has its own cookie jar: GET /api/me for the CSRF token, then until ``--duration`` runs
out it "draws" for a random think time, POSTs one of ~20 pre-made 512 px drawings to
/api/generate with a random kind, marked as the studio's canvas as the page does, and, every ``--recognize-every`` drawings, to /api/recognize
first. A 503 (queue full) is counted apart from errors and the child waits Retry-After, then asks
again. Latencies are of successful /api/generate calls; throughput is pictures per second of phase
wall time (requests still running at the deadline are waited for). The client runs on the same
machine as the server, so on a small machine it takes some CPU away from it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import numpy as np

CANVAS = 512  # side of the drawing the page sends, px
POOL_SIZE = 20  # distinct drawings made up front and reused
PENS = (4, 8, 14)  # pencil widths on the canvas, px
CRAYONS = ((57, 53, 229), (53, 216, 253), (71, 160, 67), (216, 91, 30))  # a few crayon colours, BGR
TINY_KINDS = ["shoe", "handbag", "cat", "panda", "car", "face"]  # kinds of the fallback model
GEN_SETTINGS = ("gen_workers", "gen_max_batch", "gen_window_ms", "gen_max_queue")  # passed as ICANVAS_GEN_*


CLIENT_KEEP_ALIVE_S = 4.0  # idle connections are closed by the client before this, s (the server's keep-alive is 5 s)
CANVAS_FORM = {"canvas": "true"}  # the studio says its drawings are its own canvas exports (no page to look for)


def make_drawings(rng: np.random.Generator, n: int = POOL_SIZE) -> list[bytes]:
    """``n`` PNG drawings (CANVAS x CANVAS, white paper) of wobbly pencil strokes, some with a crayon stroke."""
    out = []
    for _ in range(n):
        img = np.full((CANVAS, CANVAS, 3), 255, np.uint8)  # (H, W, 3) BGR
        for s in range(int(rng.integers(3, 9))):
            steps = int(rng.integers(8, 40))
            start = rng.uniform(80, CANVAS - 80, 2)
            heading = np.cumsum(rng.normal(0, 0.35, steps)) + rng.uniform(0, 2 * np.pi)
            pts = start + np.cumsum(np.stack([np.cos(heading), np.sin(heading)], 1) * rng.uniform(6, 16), 0)
            pts = np.clip(pts, 8, CANVAS - 8).astype(np.int32)  # (steps, 2) x, y
            crayon = s > 2 and rng.random() < 0.3
            colour = CRAYONS[int(rng.integers(len(CRAYONS)))] if crayon else (0, 0, 0)
            width = 18 if crayon else int(rng.choice(PENS))
            cv2.polylines(img, [pts], False, colour, width, cv2.LINE_AA)
        ok, png = cv2.imencode(".png", img)
        out.append(png.tobytes())
    return out


def write_tiny_model(folder: Path) -> Path:
    """An untrained class-conditional pix2pix model folder shaped like the bundled one."""
    import torch

    from icanvas.checkpoint import save_pretrained
    from icanvas.methods.pix2pix import UNetConfig
    from icanvas.models.unet import UNetGenerator

    torch.manual_seed(0)
    cfg = UNetConfig(image_size=256, ngf=32, max_channels=128, upsample="resize", num_classes=len(TINY_KINDS))
    return save_pretrained(UNetGenerator(cfg), folder / "tiny-untrained", method="pix2pix", config=cfg,
                           meta={"kinds": TINY_KINDS})


class Server:
    """``uvicorn`` running the studio app in a subprocess, on a free local port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url, self.log = f"http://127.0.0.1:{port}", log
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "icanvas.serve.app:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 180.0) -> dict:
        """The /api/studio answer once the server is up (models loaded)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                sys.exit(f"The server stopped (exit {self.proc.returncode}); its log:\n{self.log.read_text()[-3000:]}")
            try:
                return httpx.get(self.url + "/api/studio", timeout=5).raise_for_status().json()
            except httpx.HTTPError:
                time.sleep(0.5)
        self.stop()
        sys.exit(f"The server did not answer /api/studio within {timeout:.0f} s; log in {self.log}.")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Phase:
    children: int
    requests: int = 0  # POSTs sent (generate + recognize), including 503s and failures
    gen_ms: list[float] = field(default_factory=list)  # latency of successful /api/generate, ms
    rec_ms: list[float] = field(default_factory=list)  # latency of successful /api/recognize, ms
    saturated: int = 0  # 503 answers
    errors: Counter = field(default_factory=Counter)  # cause -> count (non-2xx other than 503, exceptions)
    wall_s: float = 0.0  # phase wall time, s
    batches: dict[str, float] = field(default_factory=dict)  # the server's micro-batches in this phase (from /metrics)


async def post(client: httpx.AsyncClient, path: str, files: dict, data: dict | None, token: str,
               stats: Phase, into: list[float]) -> float | None:
    """Send one POST and record it; returns Retry-After seconds on a 503, else None."""
    stats.requests += 1
    t = time.perf_counter()
    try:
        r = await client.post(path, files=files, data=data, headers={"X-CSRF-Token": token})
    except httpx.HTTPError as e:
        stats.errors[f"{path}: {type(e).__name__}"] += 1
        return None
    if r.is_success:
        into.append((time.perf_counter() - t) * 1000)
    elif r.status_code == 503:
        stats.saturated += 1
        return float(r.headers.get("Retry-After", "1"))
    else:
        problem = r.json().get("detail", {}).get("problem", "") if "json" in r.headers.get("content-type", "") else ""
        stats.errors[f"{path}: {r.status_code} {problem}".strip()] += 1
    return None


async def child(i: int, args: argparse.Namespace, url: str, drawings: list[bytes], kinds: list[str],
                recognizer: bool, deadline: float, stats: Phase) -> None:
    rng, loop = random.Random(args.seed * 100_003 + i), asyncio.get_running_loop()
    # an idle connection is dropped by the client before the server's keep-alive runs out, as browsers
    # retry one the server closed: otherwise a child that thinks exactly that long races the close
    limits = httpx.Limits(keepalive_expiry=CLIENT_KEEP_ALIVE_S)
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits) as client:
        try:
            token = (await client.get("/api/me")).raise_for_status().json()["csrf_token"]
        except (httpx.HTTPError, KeyError, ValueError) as e:
            stats.errors[f"/api/me: {type(e).__name__}"] += 1
            return
        drawn = 0
        while True:
            think = rng.uniform(*args.think)
            if loop.time() + think >= deadline:  # this drawing would be finished after the phase ends
                return
            await asyncio.sleep(think)  # drawing
            png, drawn = rng.choice(drawings), drawn + 1
            files = {"drawing": ("drawing.png", png, "image/png")}
            if recognizer and args.recognize_every and drawn % args.recognize_every == 0:
                await post(client, "/api/recognize", files, CANVAS_FORM, token, stats, stats.rec_ms)
            while loop.time() < deadline:  # press "make a picture" until it is not refused as busy
                retry = await post(client, "/api/generate", files, {"kind": rng.choice(kinds), **CANVAS_FORM}, token, stats, stats.gen_ms)
                if retry is None:
                    break
                await asyncio.sleep(retry)


async def run_phase(n: int, args: argparse.Namespace, urls: list[str], drawings: list[bytes], kinds: list[str],
                    recognizer: bool) -> Phase:
    """N children for one phase; child i draws on server i modulo the number of servers."""
    stats, t = Phase(n), time.perf_counter()
    deadline = asyncio.get_running_loop().time() + args.duration
    await asyncio.gather(*(child(i, args, urls[i % len(urls)], drawings, kinds, recognizer, deadline, stats) for i in range(n)))
    stats.wall_s = time.perf_counter() - t
    return stats


def read_batches(urls: list[str]) -> dict[str, float]:
    """The servers' generation batch-size histogram from GET /metrics, summed: {"count", "sum", "le=N": cumulative}.
    Several processes behind one address (``icanvas serve --workers N``) answer for one of them each time."""
    out: dict[str, float] = {}
    for url in urls:
        try:
            text = httpx.get(url + "/metrics", timeout=10).text
        except httpx.HTTPError:
            continue
        for line in text.splitlines():
            if line.startswith("icanvas_generation_batch_size_bucket"):
                key = "le=" + line.split('le="')[1].split('"')[0]
            elif line.startswith(("icanvas_generation_batch_size_count", "icanvas_generation_batch_size_sum")):
                key = line.split(" ")[0].rsplit("_", 1)[1]
            else:
                continue
            out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def batch_line(p: Phase) -> str:
    """How many drawings each model call took during the phase: the mean and the share per size bucket."""
    b = p.batches
    if not b.get("count"):
        return f"N={p.children}: no batches reported (the server has no /metrics)"
    bounds = sorted((k for k in b if k.startswith("le=") and k != "le=+Inf"), key=lambda k: float(k[3:]))
    shares, below = [], 0.0
    for k in bounds + ["le=+Inf"]:
        n = b.get(k, 0.0) - below
        below = b.get(k, below)
        if n:
            shares.append(f"<={k[3:]}: {100 * n / b['count']:.0f}%")
    return f"N={p.children}: {b['count']:.0f} model calls, {b['sum'] / b['count']:.2f} drawings per call ({', '.join(shares)})"


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def table(phases: list[Phase]) -> str:
    rows = ["| children | requests | pictures/s | p50 ms | p95 ms | p99 ms | 503 | errors | recognize p50 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in phases:
        rows.append(f"| {p.children} | {p.requests} | {len(p.gen_ms) / p.wall_s:.2f} | {pct(p.gen_ms, 50)} | "
                    f"{pct(p.gen_ms, 95)} | {pct(p.gen_ms, 99)} | {p.saturated} | {sum(p.errors.values())} | "
                    f"{pct(p.rec_ms, 50)} |")
    return "\n".join(rows)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--children", type=int, nargs="+", default=[1, 10, 50], help="simulated children per phase (default: 1 10 50)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds each phase keeps sending (default 30)")
    ap.add_argument("--think", type=float, nargs=2, default=[2.0, 5.0], metavar=("MIN", "MAX"),
                    help="drawing time before each picture, uniform in [MIN, MAX] seconds (default 2 5)")
    ap.add_argument("--recognize-every", type=int, default=3, help="also POST /api/recognize every Nth drawing; 0 = never (default 3)")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, s (default 120)")
    ap.add_argument("--seed", type=int, default=0, help="seed for drawings, think times and kinds")
    ap.add_argument("--url", action="append", help="use this running server instead of starting one (the --gen-* and model options "
                    "then do nothing); give it again to spread the children over several servers")
    ap.add_argument("--model-path", help="folder of model folders for the started server (ICANVAS_MODEL_PATH)")
    ap.add_argument("--tiny", action="store_true", help="serve an untrained 256 px model (same cost per picture as the bundled one)")
    ap.add_argument("--backend", choices=["auto", "int8", "onnx", "torch"], help="generator runtime of the started server (ICANVAS_MODEL_BACKEND)")
    for name in GEN_SETTINGS:
        ap.add_argument("--" + name.replace("_", "-"), type=float if name.endswith("ms") else int,
                        help=f"server setting {name} (ICANVAS_{name.upper()}; default: the server's)")
    return ap.parse_args()


def server_env(args: argparse.Namespace, data_dir: Path, model_path: str | None) -> dict[str, str]:
    env = {"ICANVAS_DATA_DIR": str(data_dir)}
    env.update({f"ICANVAS_{n.upper()}": str(getattr(args, n)) for n in GEN_SETTINGS if getattr(args, n) is not None})
    if model_path:
        env["ICANVAS_MODEL_PATH"] = model_path
    if args.backend:
        env["ICANVAS_MODEL_BACKEND"] = args.backend
    return env


def describe_settings(args: argparse.Namespace) -> str:
    if args.url:
        return "as configured on that server"
    from icanvas.serve.settings import Settings

    fields = Settings.model_fields
    values = {n: getattr(args, n) if getattr(args, n) is not None else fields[n].default for n in GEN_SETTINGS}
    values["model_backend"] = args.backend or fields["model_backend"].default
    return ", ".join(f"{k}={v}" for k, v in values.items())


def main() -> None:
    args = parse_args()
    drawings = make_drawings(np.random.default_rng(args.seed))
    tmp = Path(tempfile.mkdtemp(prefix="icanvas-load-"))
    server, tiny = None, args.tiny
    if args.url:
        urls = [u.rstrip("/") for u in args.url]
        studio = httpx.get(urls[0] + "/api/studio", timeout=10).json()
        if not studio["kinds"]:
            sys.exit("That server lists no kinds (no sketch model installed): nothing to load-test.")
    else:
        model_path = args.model_path
        if tiny:
            model_path = os.pathsep.join(filter(None, [str(write_tiny_model(tmp / "models")), model_path]))
        server = Server(server_env(args, tmp / "data", model_path), tmp / "server.log")
        studio = server.wait()
        if not studio["kinds"]:
            print("The server lists no kinds (no sketch model installed): falling back to --tiny.")
            server.stop()
            tiny, model_path = True, str(write_tiny_model(tmp / "models"))
            server = Server(server_env(args, tmp / "data2", model_path), tmp / "server2.log")
            studio = server.wait()
        urls = [server.url]
    try:
        kinds = [k["kind"] for k in studio["kinds"]]
        models = sorted({k["model"] for k in studio["kinds"]})
        print(f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
              f"load average {os.getloadavg()[0]:.1f} at start")
        print(f"Server: {', '.join(urls)} ({'started here' if server else 'given'}); {describe_settings(args)}")
        print(f"Model: {', '.join(models)}{' (untrained, 256 px, ngf 32)' if tiny else ''}; kinds: {', '.join(kinds)}; "
              f"recognizer: {'on' if studio['recognizer'] else 'off'}")
        print(f"Children think {args.think[0]:g}-{args.think[1]:g} s per drawing, {args.duration:g} s per phase, "
              f"recognize every {args.recognize_every or 'never'} drawings")
        for url in urls:
            with httpx.Client(base_url=url, timeout=args.timeout) as c:  # warm-up: the first model call is slow
                token = c.get("/api/me").json()["csrf_token"]
                c.post("/api/generate", files={"drawing": ("d.png", drawings[0], "image/png")}, data={"kind": kinds[0]},
                       headers={"X-CSRF-Token": token})
        phases = []
        for n in args.children:
            before = read_batches(urls)
            phases.append(asyncio.run(run_phase(n, args, urls, drawings, kinds, studio["recognizer"])))
            p = phases[-1]
            after = read_batches(urls)
            p.batches = {k: after[k] - before.get(k, 0.0) for k in after}
            print(f"  N={n}: {len(p.gen_ms)} pictures in {p.wall_s:.1f} s, {p.saturated} busy, {sum(p.errors.values())} errors",
                  flush=True)
        print()
        print(table(phases))
        for p in phases:
            for cause, count in p.errors.most_common():
                print(f"N={p.children} error x{count}: {cause}")
        print("\nThe server's micro-batches (GET /metrics):")
        for p in phases:
            print(batch_line(p))
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
