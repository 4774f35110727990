"""Uploads cost bounded work whatever their shape: strips are refused from the header, big
images are decoded straight to a working size, and decodes running at once share a budget."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image, ImageDraw

from icanvas.serve.images import UPLOAD_WORK_SIDE, DecodeBudget, decode_upload, to_drawing
from icanvas.serve.problems import PayloadTooLarge, Saturated, Unprocessable

MB = 2**20
LIMITS = (8 * MB, 16_000_000)  # the studio's default max_upload_bytes, max_upload_pixels


def encoded(w: int, h: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A w x h drawing (white or transparent paper, a black ring) encoded as ``fmt``."""
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0 if "A" in mode else 255))
    ImageDraw.Draw(img).ellipse([w // 4, h // 4, 3 * w // 4, 3 * h // 4], outline=(0, 0, 0, 255), width=max(3, min(w, h) // 60))
    buf = io.BytesIO()
    img.convert(mode).save(buf, fmt)
    return buf.getvalue()


def strip(w: int, h: int) -> bytes:
    img = Image.new("L", (w, h), 255)
    ImageDraw.Draw(img).line([(0, 0), (w - 1, h - 1)], fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("w,h", [(1, 16_000_000), (16_000_000, 1), (4000, 400)])
def test_strips_are_refused_before_decoding(w, h):
    data = strip(w, h)
    assert len(data) < 100_000  # tiny files that declare huge strips
    started = time.perf_counter()
    with pytest.raises(Unprocessable, match=rf"The drawing is {w}x{h} pixels: one side is more than 8 times the other") as err:
        decode_upload(data, *LIMITS)
    assert err.value.status == 422 and err.value.hint
    assert time.perf_counter() - started < 5  # generous: decoding 16 megapixels would take far longer on a strip


def test_big_uploads_come_back_at_the_working_size_and_canvases_unchanged():
    big = decode_upload(encoded(4000, 3000, "RGBA"), *LIMITS)
    assert big.size == (UPLOAD_WORK_SIDE, 768)
    assert (to_drawing(big).lines == 0).any()
    canvas = decode_upload(encoded(512, 512), *LIMITS)
    assert canvas.size == (512, 512)
    with pytest.raises(PayloadTooLarge):
        decode_upload(encoded(4001, 4000), *LIMITS)
    with pytest.raises(PayloadTooLarge, match="decodes WEBP images of at most 4.7 megapixels") as err:
        decode_upload(encoded(4000, 4000, "RGB", "WEBP"), *LIMITS)  # within the pixel limit, but WebP takes 4x the memory
    assert "PNG or JPEG" in err.value.hint


_MEASURE = """
import io, json, sys
from icanvas.serve.images import decode_upload, to_drawing
def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) * 1024
def run(data):
    try:
        to_drawing(decode_upload(data, 8 << 20, 16_000_000))
    except Exception as e:
        if getattr(e, "status", 500) >= 500:
            raise
run(open(sys.argv[1], "rb").read())  # warm-up: the same work on a canvas-sized drawing
before = hwm()
run(open(sys.argv[2], "rb").read())
print(json.dumps({"growth": hwm() - before}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("w,h,mode,fmt", [(4000, 4000, "RGBA", "PNG"), (4000, 4000, "RGB", "PNG"), (2150, 2150, "RGBA", "WEBP"),
                                          (4000, 3000, "RGB", "JPEG"), (11_000, 1400, "RGB", "PNG"), (1, 16_000_000, "L", "PNG")])
def test_one_upload_of_any_shape_raises_peak_memory_by_less_than_100_mb(tmp_path, w, h, mode, fmt):
    """Peak resident memory (VmHWM) of a fresh process decoding and normalising one upload."""
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(encoded(512, 512))
    big.write_bytes(strip(w, h) if w * 8 < h else encoded(w, h, mode, fmt))
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(small), str(big)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    growth = json.loads(out.stdout)["growth"]
    assert growth < 100 * MB, f"{w}x{h} {mode} {fmt}: +{growth / MB:.0f} MB"


def test_decode_budget_makes_big_decodes_wait_for_each_other():
    budget = DecodeBudget(100)
    held, release, order = threading.Event(), threading.Event(), []

    def first():
        with budget.room(60):
            order.append("first in")
            held.set()
            release.wait(5)
        order.append("first out")

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    with budget.room(40, timeout=0.1):  # fits beside the first
        order.append("small in")
    with pytest.raises(Saturated):
        with budget.room(60, timeout=0.1):  # does not fit while the first runs
            pass
    release.set()
    with budget.room(10**9, timeout=5):  # larger than the whole budget: runs alone
        order.append("huge in")
        assert budget.used == 100
    t.join(5)
    assert order == ["first in", "small in", "first out", "huge in"] and budget.used == 0


def test_decode_drawing_holds_its_budget_while_normalising(monkeypatch):
    from icanvas.serve import images

    seen = []
    real = images.to_drawing
    monkeypatch.setattr(images, "to_drawing", lambda img, corners=None, canvas=False: seen.append(images.DECODE_BUDGET.used) or real(img, corners, canvas))
    image, drawn = images.decode_drawing(encoded(2048, 1024), *LIMITS)
    assert image.size == (1024, 512) and (drawn.lines == 0).any()
    assert seen and seen[0] >= images.NORMALIZE_BYTES_PER_PIXEL * 1024 * 512  # normalising counted in the budget
    assert images.DECODE_BUDGET.used == 0
    blank = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(blank, "PNG")
    assert images.decode_drawing(blank.getvalue(), *LIMITS, allow_empty=True)[1] is None
    with pytest.raises(Unprocessable, match="empty"):
        images.decode_drawing(blank.getvalue(), *LIMITS)


@pytest.mark.parametrize("shape", [(40, 30, 3), (40, 30, 4), (40, 30)])
def test_pictures_are_written_as_lossless_pngs(shape):
    import numpy as np

    from icanvas.serve.images import png_bytes

    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    data = png_bytes(pixels)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    back = Image.open(io.BytesIO(data))
    assert back.mode == {3: "RGB", 4: "RGBA"}.get(shape[-1] if len(shape) == 3 else 0, "L")
    assert np.array_equal(np.asarray(back), pixels)  # every pixel, in RGB(A) order


def test_pictures_are_shrunk_to_the_side_asked_and_odd_modes_converted():
    import numpy as np

    from icanvas.serve.images import png_bytes

    big = np.zeros((300, 600, 3), np.uint8)
    big[:, 300:] = (255, 0, 0)
    small = Image.open(io.BytesIO(png_bytes(big, max_side=200)))
    assert small.size == (200, 100) and small.getpixel((190, 50))[0] > 250
    palette = Image.new("P", (10, 10), 3)
    assert Image.open(io.BytesIO(png_bytes(palette))).mode == "RGB"
