"""Saves under SIGKILL: is every acknowledged creation still there, whole, once, with no debris?

    python benchmarks/crash.py                         # 100 kills, SQLite
    python benchmarks/crash.py --kills 20 --threads 4
    python benchmarks/crash.py --database postgresql   # a fresh database on $ICANVAS_TEST_POSTGRES_URL

The script starts ``icanvas serve`` on a temporary data folder, signs up a parent, creates a
child and enters it. ``--threads`` clients then save creations without pause (each a new
drawing, every other one with a picture, each with a fresh ``Idempotency-Key``) while the
script kills the server with SIGKILL ``--kills`` times, at a random moment ``--gap`` seconds
after it came up, and starts it again (a new port, the same data). A save whose answer was
lost is sent again, with the same key, once the server is back. A save answered 200/201 is
acknowledged; an answer marked ``Idempotent-Replayed`` is a resent save the server had
already saved before its answer was lost.

Before the last start every file in DATA/files is made ``--age`` seconds older, as if the
server had been down that long, so a start-up sweep that only removes files older than a grace
period does its work (``--final-env`` passes settings to that last server only). Then:

- lost: acknowledged saves missing from GET /api/creations;
- corrupt: acknowledged saves whose drawing or picture does not download, decode and match
  the pixels that were sent (the server re-encodes, so decoded pixels are compared);
- duplicates: creations of the same drawing beyond the first (every save draws a new one);
- orphans / missing files: image files in DATA/files no creation refers to (read from the
  database with SQLAlchemy), and files a creation refers to that are not there;
- temp files: ``.tmp-*`` files left in DATA/files;
- integrity: ``PRAGMA integrity_check`` on SQLite, and on any database every foreign key
  checked by a join (rows pointing at a row that does not exist).

Exits with status 1 when any of these is not zero / ok.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import studio_probe as sp

SAVE_TIMEOUT = 30.0  # per-request timeout of a save, s
BACK_TIMEOUT = 240.0  # how long a client waits for a killed server to come back, s
PAGE = 500  # creations per GET /api/creations page (the server's most)
REPLAYED_HEADER = "Idempotent-Replayed"  # the server marks its answer to a save it had already saved


def pixels(data: bytes) -> str:
    """sha256 of the decoded RGB pixels (and the size) of an image file."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    return hashlib.sha256(f"{img.size}".encode() + img.tobytes()).hexdigest()


def picture_png(rng: np.random.Generator) -> bytes:
    """A small colourful "picture" (a noise pattern blown up), different each time."""
    img = Image.fromarray(rng.integers(0, 256, (16, 16, 3), np.uint8)).resize((128, 128), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Save:
    key: str  # Idempotency-Key
    drawing: bytes
    picture: bytes | None
    drawing_px: str  # pixels() of what was sent
    picture_px: str | None
    creation_id: int | None = None  # from the acknowledging answer


class Target:
    """The server the clients talk to now; ``generation`` grows with every restart."""

    def __init__(self, url: str) -> None:
        self.url, self.generation = url, 0
        self.cond = threading.Condition()

    def restarted(self, url: str) -> None:
        with self.cond:
            self.url, self.generation = url, self.generation + 1
            self.cond.notify_all()

    def wait_newer(self, generation: int, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.generation != generation, timeout)


@dataclass
class Tally:
    sent: int = 0  # saves started (each counted once, however often resent)
    resent: int = 0  # requests sent again after a lost answer
    lost_answers: int = 0  # requests that got no answer (killed server, refused connection, timeout)
    gave_up: int = 0  # saves never answered after --max-retries
    replayed: int = 0  # answers marked Idempotent-Replayed: a resent save the server had already saved
    answers: Counter = field(default_factory=Counter)  # HTTP status -> count, of every answer
    acked: list[Save] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def back(target: Target, generation: int) -> None:
    """Wait until the server was restarted, or answers again (a lost answer without a kill)."""
    end = time.monotonic() + BACK_TIMEOUT
    while time.monotonic() < end:
        target.wait_newer(generation, 1.0)
        if target.generation != generation:
            return
        try:
            if httpx.get(target.url + "/api/studio", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass


def saver(w: int, kid: sp.Browser, target: Target, stop: threading.Event, tally: Tally, seed: int, max_retries: int) -> None:
    """Save new creations until ``stop``; resend a save whose answer was lost with the same key."""
    rng = np.random.default_rng([seed, w])
    b = kid.clone()
    b.client.timeout = httpx.Timeout(SAVE_TIMEOUT)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            drawing = sp.make_drawings(rng, 1)[0]
            picture = picture_png(rng) if n % 2 else None
            save = Save(uuid.uuid4().hex, drawing, picture, pixels(drawing), pixels(picture) if picture else None)
            with tally.lock:
                tally.sent += 1
            files = {"drawing": ("drawing.png", save.drawing, "image/png")}
            if picture:
                files["picture"] = ("picture.png", picture, "image/png")
            data = {"kind": "", "colours": "1", "seconds": "5"}
            for attempt in range(max_retries + 1):
                generation = target.generation
                b.url = target.url
                try:
                    r = b.post("/api/creations", files=files, data=data, headers={"Idempotency-Key": save.key})
                except httpx.TransportError:
                    with tally.lock:
                        tally.lost_answers += 1
                        tally.resent += attempt < max_retries
                    back(target, generation)
                    continue
                with tally.lock:
                    tally.answers[r.status_code] += 1
                if r.status_code in (200, 201):
                    save.creation_id = r.json()["creation"]["id"]
                    with tally.lock:
                        tally.acked.append(save)
                        tally.replayed += r.headers.get(REPLAYED_HEADER, "").lower() == "true"
                    break
                if r.status_code in (409, 503) and attempt < max_retries:  # busy or the same save in flight: again soon
                    with tally.lock:
                        tally.resent += 1
                    time.sleep(float(r.headers.get("Retry-After", "0.5")))
                    continue
                break  # another answer: not acknowledged, nothing to resend
            else:
                with tally.lock:
                    tally.gave_up += 1
    finally:
        b.close()


# ---------------------------------------------------------------- checks


@dataclass
class Checks:
    acknowledged: int = 0
    lost: int = 0
    corrupt: int = 0
    duplicates: int = 0
    orphans: int = 0
    missing_files: int = 0
    temp_files: int = 0
    integrity: str = "not checked"
    creations: int = 0  # rows in the database at the end

    @property
    def ok(self) -> bool:
        return (self.lost == self.corrupt == self.duplicates == self.orphans == self.missing_files == self.temp_files == 0
                and self.integrity == "ok")


def check_album(kid: sp.Browser, acked: list[Save], checks: Checks) -> None:
    """Lost and corrupt acknowledged saves, through the API."""
    listed: dict[int, dict] = {}
    for offset in range(0, 10**7, PAGE):  # bounded by the number of creations
        page = kid.get("/api/creations", params={"limit": PAGE, "offset": offset}).raise_for_status().json()
        listed.update((c["id"], c) for c in page)
        if len(page) < PAGE:
            break
    checks.acknowledged = len(acked)
    for save in acked:
        entry = listed.get(save.creation_id)
        if entry is None:
            checks.lost += 1
            continue
        want = [(entry["drawing_url"], save.drawing_px)] + ([(entry["picture_url"], save.picture_px)] if save.picture else [])
        for url, px in want:
            try:
                r = kid.get(url) if url else None
                ok = r is not None and r.status_code == 200 and pixels(r.content) == px
            except Exception:  # undecodable bytes
                ok = False
            if not ok:
                checks.corrupt += 1
                break


def engine_for(s: sp.Studio):
    from sqlalchemy import create_engine

    return create_engine(s.database_url or f"sqlite:///{s.data_dir / 'icanvas.db'}")


def files_on_disk(files_dir: Path) -> tuple[set[str], list[Path]]:
    """(keys of image files, temporary files) under DATA/files."""
    keys, temps = set(), []
    for folder in files_dir.iterdir() if files_dir.is_dir() else []:
        for path in folder.iterdir() if folder.is_dir() else []:
            if path.name.startswith(".tmp-"):
                temps.append(path)
            elif path.suffix == ".png":
                keys.add(folder.name + path.stem)
    return keys, temps


def check_storage(s: sp.Studio, checks: Checks) -> None:
    """Orphans, missing files, temp files, duplicates and integrity, from the database and the folder."""
    from sqlalchemy import MetaData, and_, func, select, text

    engine = engine_for(s)
    try:
        meta = MetaData()
        meta.reflect(engine)
        creations = meta.tables["creations"]
        with engine.connect() as db:
            rows = db.execute(select(creations.c.drawing_key, creations.c.picture_key)).all()
            problems = []
            if engine.dialect.name == "sqlite":
                result = db.execute(text("PRAGMA integrity_check")).scalars().all()
                if result != ["ok"]:
                    problems.append("integrity_check: " + "; ".join(result[:3]))
                fk = db.execute(text("PRAGMA foreign_key_check")).all()
                if fk:
                    problems.append(f"foreign_key_check: {len(fk)} rows")
            for table in meta.sorted_tables:
                for fk in table.foreign_key_constraints:
                    parent = fk.referred_table
                    on = and_(*[c == e.column for c, e in zip(fk.columns, fk.elements)])
                    dangling = db.scalar(select(func.count()).select_from(table.outerjoin(parent, on))
                                         .where(*[c.isnot(None) for c in fk.columns], fk.elements[0].column.is_(None)))
                    if dangling:
                        problems.append(f"{table.name}.{','.join(c.name for c in fk.columns)}: {dangling} rows point nowhere")
    finally:
        engine.dispose()
    checks.integrity = "; ".join(problems) or "ok"
    checks.creations = len(rows)
    drawings = Counter(d for d, _ in rows)
    checks.duplicates = sum(n - 1 for n in drawings.values() if n > 1)
    referenced = {k for row in rows for k in row if k}
    on_disk, temps = files_on_disk(s.data_dir / "files")
    checks.orphans = len(on_disk - referenced)
    checks.missing_files = len(referenced - on_disk)
    checks.temp_files = len(temps)


def age_files(files_dir: Path, seconds: float) -> None:
    """Make every file under ``files_dir`` ``seconds`` older (as if the server had been down that long)."""
    for path in files_dir.rglob("*") if files_dir.is_dir() else []:
        try:
            st = path.stat()
            os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------- the run


@dataclass
class Run:
    kills: int
    tally: Tally
    checks: Checks
    wall_s: float


def crash(s: sp.Studio, kills: int, threads: int = 3, gap: tuple[float, float] = (0.2, 1.5), seed: int = 0,
          max_retries: int = 20, age_s: float = 3600.0, final_env: dict[str, str] | None = None, env: dict[str, str] | None = None,
          progress=None) -> Run:
    """Kill and restart ``s``'s server ``kills`` times under saves, then check what was acknowledged."""
    t0 = time.perf_counter()
    _, kid, _, _ = sp.family_with_child(s.url, s.info, "crash")
    target, stop, tally = Target(s.url), threading.Event(), Tally()
    workers = [threading.Thread(target=saver, args=(w, kid, target, stop, tally, seed, max_retries), daemon=True) for w in range(threads)]
    for th in workers:
        th.start()
    rng = random.Random(seed)
    try:
        for k in range(1, kills + 1):
            time.sleep(rng.uniform(*gap))
            s.server.kill()
            last = k == kills
            if last:
                age_files(s.data_dir / "files", age_s)
            s.start({**(env or {}), **((final_env or {}) if last else {})}, tag=f"-{k}")
            target.restarted(s.url)
            if progress:
                progress(k, tally)
    finally:
        stop.set()
        for th in workers:
            th.join(SAVE_TIMEOUT * (max_retries + 1))
    kid.url = s.url
    checks = Checks()
    check_album(kid, tally.acked, checks)
    kid.close()
    s.server.stop()  # the database and the folder are read with the server stopped
    check_storage(s, checks)
    return Run(kills, tally, checks, time.perf_counter() - t0)


def report(run: Run) -> str:
    t, c = run.tally, run.checks
    answers = ", ".join(f"{k}x{v}" for k, v in sorted(t.answers.items()))
    rows = [["kills", run.kills], ["saves sent", t.sent], ["answers", answers or "-"], ["answers lost (resent)", f"{t.lost_answers} ({t.resent})"],
            ["resent saves the server had saved (replayed)", t.replayed],
            ["never answered", t.gave_up], ["saves acknowledged", c.acknowledged], ["lost", c.lost], ["corrupt", c.corrupt],
            ["duplicates", c.duplicates], ["orphans", c.orphans], ["missing files", c.missing_files], ["temp files", c.temp_files],
            ["integrity", c.integrity], ["creations in the database", c.creations], ["wall s", round(run.wall_s, 1)]]
    return sp.table(["", ""], rows)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=100, help="SIGKILLs, each followed by a restart (default 100)")
    ap.add_argument("--threads", type=int, default=3, help="client threads saving (default 3)")
    ap.add_argument("--gap", type=float, nargs=2, default=[0.2, 1.5], metavar=("MIN", "MAX"),
                    help="seconds between the server answering and its kill, uniform in [MIN, MAX] (default 0.2 1.5)")
    ap.add_argument("--max-retries", type=int, default=20, help="times a save is resent after a lost answer (default 20)")
    ap.add_argument("--age", type=float, default=3600.0,
                    help="seconds every stored file is made older before the last start, for start-up sweeps with a grace period (default 3600)")
    ap.add_argument("--final-env", action="append", metavar="NAME=VALUE", help="setting for the last server only (repeatable)")
    ap.add_argument("--seed", type=int, default=0, help="seed for drawings and kill moments")
    sp.add_server_options(ap, url=False)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    env = sp.env_pairs(args.env)
    with sp.studio(None, args.database, env, args.postgres_url, prefix="icanvas-crash-") as s:
        print(sp.machine_line())
        print(f"Server: {s.url} (started here, {args.database}); {args.kills} kills, {args.threads} client threads saving", flush=True)
        step = max(1, args.kills // 10)

        def progress(k: int, tally: Tally) -> None:
            if k % step == 0:
                print(f"  kill {k}/{args.kills}: {len(tally.acked)} saves acknowledged, {tally.lost_answers} answers lost", flush=True)

        run = crash(s, args.kills, args.threads, tuple(args.gap), args.seed, args.max_retries, args.age,
                    sp.env_pairs(args.final_env), env, progress)
        print()
        print(report(run))
    print("\nOK: every acknowledged save is whole, once, with no debris." if run.checks.ok else "\nFAILED: see the table above.")
    sys.exit(0 if run.checks.ok else 1)


if __name__ == "__main__":
    main()
