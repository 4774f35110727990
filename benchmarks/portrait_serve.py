"""Photo -> character through the studio's API with the installed stages, printed as a table.

    python benchmarks/portrait_serve.py --photos ../shared/data/selfie2anime/testA -n 5
    python benchmarks/portrait_serve.py --photos my_photos/ --styles cartoon --side 1024

For each of ``-n`` photos of the folder (enlarged or shrunk to ``--side`` px long, re-encoded as
JPEG) a signed-in grown-up uploads it, asks for the mask of one click in the middle, then for
the character in each style; the first run of each style (its model loads) is left out. While
each character is being made, a second client asks for ``/api/studio`` (a page load), to show
what a slow photo costs everyone else. Times are medians over the photos, in ms, wall clock
of the whole request as a browser sees it (in-process test client, no network).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from PIL import Image

SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")  # photos read from --photos
PASSWORD = "benchmark password"


def photos_of(folder: Path, n: int, side: int) -> list[bytes]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)[:n]
    if not files:
        sys.exit(f"No photos ({', '.join(SUFFIXES)}) in {folder}.")
    out = []
    for path in files:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
            k = side / max(rgb.size)
            rgb = rgb.resize((round(rgb.width * k), round(rgb.height * k)), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            rgb.save(buf, "JPEG", quality=90)
            out.append(buf.getvalue())
    return out


def ms(t0: float) -> float:
    return 1000 * (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, required=True, help="folder of photos with a person in the middle")
    ap.add_argument("-n", type=int, default=5, help="photos to use")
    ap.add_argument("--side", type=int, default=768, help="long side the photos are sent at, px")
    ap.add_argument("--styles", nargs="*", help="styles to time (default: every installed one)")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from icanvas.serve.app import create_app
    from icanvas.serve.settings import Settings

    photos = photos_of(args.photos, args.n, args.side)
    data = Path(tempfile.mkdtemp(prefix="icanvas-portrait-bench-"))
    rows: dict[str, list[float]] = {}
    with TestClient(create_app(Settings(data_dir=data))) as client:
        portraits = client.app.state.studio.portraits
        if portraits is None:
            sys.exit("Photo -> character is not installed here (see the studio's log).")
        styles = args.styles or portraits.kit.styles
        client.post("/api/auth/register", json={"email": "bench@example.com", "password": PASSWORD},
                    headers={"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]})
        token = client.post("/api/auth/login", json={"email": "bench@example.com", "password": PASSWORD},
                            headers={"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}).json()["csrf_token"]
        csrf = {"X-CSRF-Token": token}
        other = TestClient(client.app)
        for i, photo in enumerate(photos):
            t0 = time.perf_counter()
            kept = client.post("/api/portrait/photo", content=photo, headers={**csrf, "Content-Type": "image/jpeg"})
            kept.raise_for_status()
            rows.setdefault("upload (decode, keep)", []).append(ms(t0))
            w, h = kept.json()["width"], kept.json()["height"]
            points = [{"x": w // 2, "y": h // 2}]
            t0 = time.perf_counter()
            r = client.post("/api/portrait/mask", json={"points": points}, headers=csrf)
            if r.status_code != 200:
                print(f"photo {i}: mask {r.status_code} {r.json()['detail']['problem']}")
                continue
            rows.setdefault("mask (1 click)", []).append(ms(t0))
            for style in styles:
                pages: list[float] = []
                done = threading.Event()

                def load_pages() -> None:
                    while not done.is_set():
                        t = time.perf_counter()
                        other.get("/api/studio").raise_for_status()
                        pages.append(ms(t))
                        time.sleep(0.05)

                loader = threading.Thread(target=load_pages)
                loader.start()
                t0 = time.perf_counter()
                r = client.post("/api/portrait/stylize", json={"points": points, "style": style}, headers=csrf)
                took = ms(t0)
                done.set()
                loader.join()
                if r.status_code != 200:
                    print(f"photo {i}: {style} {r.status_code} {r.json()['detail']['problem']}")
                    continue
                if i == 0:
                    rows.setdefault(f"first {style} (loads its model)", []).append(took)
                    continue
                rows.setdefault(f"character: {style}", []).append(took)
                rows.setdefault("page load during a character", []).extend(pages)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', '-')}, {len(photos)} photos at {args.side} px")
    print(f"{'step':<40} {'n':>4} {'median ms':>10} {'max ms':>9}")
    for name, values in rows.items():
        print(f"{name:<40} {len(values):>4} {statistics.median(values):>10.0f} {max(values):>9.0f}")


if __name__ == "__main__":
    main()
