"""Reading user images safely, array fitting and drawing normalisation (all synthetic)."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFile

from icanvas.data.canvas import CANVAS_SIZE, CRAYON_WIDTH, CRAYONS, PEN_WIDTHS
from icanvas.data.hints import crayon_rgb
from icanvas.data.images import (
    Drawing,
    Placement,
    drawing_rgb,
    fit_square,
    letterbox,
    normalize_drawing,
    read_image,
    to_rgb,
    unletterbox,
)
from icanvas.errors import InputImageError

# ----------------------------------------------------------------------------- helpers


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def scene(h: int = 300, w: int = 400, width: int = 3) -> np.ndarray:
    """(H, W) bool truth mask of a few strokes: ellipse, diagonal, rectangle."""
    m = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(m)
    d.ellipse([w * 0.2, h * 0.2, w * 0.6, h * 0.7], outline=255, width=width)
    d.line([(w * 0.1, h * 0.9), (w * 0.9, h * 0.15)], fill=255, width=width)
    d.rectangle([w * 0.65, h * 0.55, w * 0.9, h * 0.85], outline=255, width=width)
    return np.array(m) > 127


def recall_and_clean(drawing: Drawing, truth: np.ndarray) -> tuple[float, float]:
    """(share of drawn pixels with ink within 2 px, share of white pixels farther than 4 px from any stroke)."""
    ink = (drawing.lines == 0).astype(np.uint8)
    near_ink = cv2.dilate(ink, np.ones((5, 5), np.uint8)) > 0
    far = cv2.dilate(truth.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    return float((truth & near_ink).sum() / truth.sum()), float((drawing.lines[far] == 255).mean())


def photographed(h: int = 300, w: int = 400, seed: int = 0, line: int = 50, noise: float = 6.0):
    """Grey paper lit from the right (120..200) with a vertical falloff, noise, dark lines, a warm tint."""
    rng = np.random.default_rng(seed)
    truth = scene(h, w, 3)
    level = np.linspace(120, 200, w)[None, :] * np.linspace(0.9, 1.0, h)[:, None]  # (H, W)
    grey = level + rng.normal(0, noise, (h, w))
    grey[truth] = line + rng.normal(0, noise, int(truth.sum()))
    grey = np.clip(grey, 0, 255)
    rgb = np.stack([grey, grey * 0.97, grey * 0.9], axis=2).astype(np.uint8)  # (H, W, 3)
    return rgb, truth


def hue(rgb: np.ndarray) -> np.ndarray:
    """OpenCV hue (0..180) of (N, 3) uint8 RGB colours."""
    return cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV)[:, 0, 0]


def png_header_only(w: int, h: int) -> bytes:
    """A PNG declaring w x h RGB whose only pixel data is one tiny compressed row: decoding must fail."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))


def sample_rgb(h: int = 40, w: int = 60) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None, None]
    return Image.fromarray(np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)), np.full((h, w, 1), 90, np.uint8)], 2))


# ----------------------------------------------------------------------------- read_image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_read_each_format_from_bytes_and_path(fmt, tmp_path):
    data = encode(sample_rgb(), fmt)
    img = read_image(data)
    assert img.size == (60, 40)
    path = tmp_path / f"x.{fmt.lower()}"
    path.write_bytes(data)
    from_path = read_image(path)
    assert from_path.size == (60, 40)
    assert to_rgb(from_path).shape == (40, 60, 3)
    if fmt in ("PNG", "BMP"):  # lossless formats come back exactly
        np.testing.assert_array_equal(to_rgb(img), np.asarray(sample_rgb()))


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA"])
def test_read_keeps_mode(mode):
    img = sample_rgb().convert(mode)
    assert read_image(encode(img, "PNG")).mode == mode


def test_read_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    data = encode(sample_rgb(40, 60), "JPEG", exif=exif.tobytes())
    img = read_image(data)
    assert img.size == (40, 60)


def test_read_returns_a_loaded_independent_image():
    img = read_image(encode(sample_rgb(), "PNG"))
    assert img.getpixel((59, 0))[0] > 240  # readable without the source still open


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputImageError, match="not found") as err:
        read_image(tmp_path / "nope.png")
    assert err.value.hint
    with pytest.raises(InputImageError, match="not a file"):
        read_image(tmp_path)


def test_non_image_bytes_names_accepted_formats(tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"these are just some words, not pixels\n" * 20)
    with pytest.raises(InputImageError) as err:
        read_image(path)
    assert "notes.png" in str(err.value) and "PNG" in str(err.value) and "JPEG" in str(err.value)
    assert err.value.hint
    with pytest.raises(InputImageError, match="empty"):
        read_image(b"")


def test_format_pil_could_read_is_still_refused():
    tiff = encode(sample_rgb(), "TIFF")
    with pytest.raises(InputImageError, match="TIFF") as err:
        read_image(tiff)
    assert "PNG" in str(err.value)
    heic_like = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64
    with pytest.raises(InputImageError, match="HEIC"):
        read_image(heic_like)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_file_is_reported_as_damaged(fmt):
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8))  # no compression: long data
    data = encode(noisy, fmt)
    with pytest.raises(InputImageError, match="could not be decoded; the file may be damaged") as err:
        read_image(data[: len(data) // 2])
    assert err.value.hint


def test_corrupted_png_data_is_reported_as_damaged():
    data = bytearray(encode(sample_rgb(), "PNG"))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = bytes(40)  # zero out compressed pixels, CRC no longer matches
    with pytest.raises(InputImageError, match="damaged"):
        read_image(bytes(data))


def test_huge_declared_size_is_refused_without_decoding():
    with pytest.raises(InputImageError, match="pixels") as err:
        read_image(png_header_only(50_000, 50_000))
    assert "damaged" not in str(err.value)


def test_pixel_limit_is_checked_before_any_decoding(monkeypatch):
    # a header without data: decoding would fail as "damaged", so this message proves no decode happened
    with pytest.raises(InputImageError, match=r"5000x5000 pixels \(25.0 megapixels\)") as err:
        read_image(png_header_only(5000, 5000), max_pixels=1_000_000)
    assert "1000x1000" in err.value.hint

    def refuse_to_decode(self):
        raise RuntimeError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    with pytest.raises(InputImageError, match="megapixels"):
        read_image(encode(sample_rgb(40, 60), "PNG"), max_pixels=1000)


def test_max_bytes(tmp_path):
    data = encode(sample_rgb(), "BMP")  # 7 KB
    with pytest.raises(InputImageError, match=r"MB, more than the limit of 0\.0 MB") as err:
        read_image(data, max_bytes=1000)
    assert err.value.hint
    path = tmp_path / "big.bmp"
    path.write_bytes(data)
    with pytest.raises(InputImageError, match="big.bmp"):
        read_image(path, max_bytes=1000)
    assert read_image(path, max_bytes=len(data)).size == (60, 40)


@pytest.mark.parametrize("size", [(1, 16_000_000), (16_000_000, 1), (3000, 100)])
def test_strip_shapes_are_refused_from_the_header(size, monkeypatch):
    w, h = size

    def refuse_to_decode(self):
        raise RuntimeError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    with pytest.raises(InputImageError, match=rf"{w}x{h} pixels: one side is more than 20 times the other") as err:
        read_image(png_header_only(w, h))
    assert err.value.hint
    with pytest.raises(InputImageError, match="more than 8 times"):
        read_image(png_header_only(900, 100), max_aspect=8)


def big_drawing(w: int, h: int, mode: str) -> Image.Image:
    """A white (or transparent) w x h image with a black ring and a black cross, in ``mode``."""
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0) if "A" in mode else (255, 255, 255, 255))
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.2, h * 0.2, w * 0.8, h * 0.8], outline=(0, 0, 0, 255), width=max(4, w // 100))
    d.line([(w * 0.5, h * 0.1), (w * 0.5, h * 0.9)], fill=(0, 0, 0, 255), width=max(4, w // 100))
    return img.convert(mode)


@pytest.mark.parametrize("mode,fmt", [("RGB", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("L", "WEBP"), ("RGB", "JPEG")])
def test_work_side_decodes_straight_to_a_small_image_with_the_lines(mode, fmt):
    big = big_drawing(3000, 2000, mode)
    img = read_image(encode(big, fmt), work_side=1024)
    assert img.size == (1024, 683)
    small = normalize_drawing(img).lines == 0
    expected = normalize_drawing(big.resize((1024, 683), Image.Resampling.LANCZOS)).lines == 0
    assert (small & expected).sum() / expected.sum() > 0.9  # the same lines, at the working size
    assert small.sum() / expected.sum() < 1.3


def test_work_side_leaves_images_that_fit_untouched():
    data = encode(big_drawing(512, 512, "RGB"), "PNG")
    np.testing.assert_array_equal(np.asarray(read_image(data, work_side=1024)), np.asarray(read_image(data)))


def test_strip_reduce_equals_reducing_the_whole_image():
    from icanvas.data.reading import _box_reduce

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (1037, 301, 4), dtype=np.uint8), "RGBA")  # alpha: PIL premultiplies
    np.testing.assert_array_equal(np.asarray(_box_reduce(img, 3)), np.asarray(img.reduce(3)))


def test_sixteen_bit_grey_keeps_its_levels_when_shrunk():
    grey = np.full((2100, 2100), 65535, np.uint16)
    grey[1000:1100, :] = 0
    img = read_image(encode(Image.fromarray(grey), "PNG"), work_side=1024)
    rgb = to_rgb(img)
    assert rgb.shape == (1024, 1024, 3)
    assert rgb[0, 0, 0] == 255 and rgb[512, 512, 0] == 0


def test_gif_first_frame():
    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    rgb = to_rgb(read_image(buf.getvalue()))
    assert rgb[5, 5, 0] > 200 and rgb[5, 5, 2] < 50


# ----------------------------------------------------------------------------- to_rgb


def test_to_rgb_composites_alpha_over_background():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128  # half transparent red
    out = to_rgb(Image.fromarray(rgba))
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    np.testing.assert_allclose(out[0, 0], [255, 127, 127], atol=1)
    np.testing.assert_allclose(to_rgb(Image.fromarray(rgba), background=(0, 0, 0))[0, 0], [128, 0, 0], atol=1)


def test_to_rgb_palette_transparency_and_other_modes():
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.info["transparency"] = 0  # index 0 (black) is see-through
    p.putpixel((1, 1), 1)
    out = to_rgb(p)
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == (255, 0, 0)
    grey16 = Image.fromarray(np.full((3, 3), 65535, np.uint16))
    assert to_rgb(grey16).min() == 255  # 16-bit white stays white
    assert to_rgb(Image.new("CMYK", (2, 2), (0, 0, 0, 0))).min() == 255
    assert to_rgb(Image.new("LA", (2, 2), (0, 0)))[0, 0].tolist() == [255, 255, 255]


# ----------------------------------------------------------------------------- fit_square / letterbox


@pytest.mark.parametrize("shape", [(100, 50), (50, 100), (64, 64), (30, 200, 3), (7, 3, 3)])
@pytest.mark.parametrize("mode", ["pad", "crop"])
def test_fit_square_shapes(shape, mode):
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = fit_square(img, 32, mode=mode)
    assert out.shape == (32, 32) + shape[2:] and out.dtype == np.uint8


def test_fit_square_pad_keeps_object_and_crop_cuts_centre():
    img = np.zeros((100, 50), np.uint8)  # black object filling a tall frame
    padded = fit_square(img, 64, mode="pad", fill=255)
    cols = np.nonzero((padded < 128).any(axis=0))[0]
    assert (padded < 128).any(axis=1).all() and len(cols) == 32  # whole object, 2:1 kept
    assert padded[:, 0].min() == 255 and padded[:, -1].min() == 255
    tall = np.full((100, 50, 3), 255, np.uint8)
    tall[40:60] = (255, 0, 0)  # red band in the middle
    cropped = fit_square(tall, 50, mode="crop")
    assert cropped.shape == (50, 50, 3) and cropped[25, 25].tolist() == [255, 0, 0]
    assert cropped[0, 0].tolist() == [255, 255, 255]
    colour_pad = fit_square(np.zeros((10, 20, 3), np.uint8), 20, fill=(1, 2, 3))
    assert colour_pad[0, 0].tolist() == [1, 2, 3]


def test_fit_square_shrinks_with_area_averaging():
    checker = (np.indices((200, 200)).sum(axis=0) % 2 * 255).astype(np.uint8)  # 1-px checkerboard
    small = fit_square(checker, 50, mode="crop")
    assert 100 < small.min() and small.max() < 155  # averaged grey, not aliased black/white


def test_fit_square_bad_arguments():
    with pytest.raises(ValueError):
        fit_square(np.zeros((4, 4), np.uint8), 8, mode="stretch")
    with pytest.raises(InputImageError):
        fit_square(np.zeros((4,), np.uint8), 8)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 700), w=st.integers(1, 700), size=st.sampled_from([16, 64, 256]), scale=st.sampled_from([1, 2]))
def test_letterbox_round_trip_keeps_aspect(h, w, size, scale):
    img = np.full((h, w, 3), 100, np.uint8)
    square, place = letterbox(img, size, fill=0)
    assert square.shape == (size, size, 3)
    assert isinstance(place, Placement) and max(place.h, place.w) == size
    assert (square[place.top : place.top + place.h, place.left : place.left + place.w] == 100).all()
    generated = cv2.resize(square, (size * scale, size * scale), interpolation=cv2.INTER_NEAREST)  # a 2x model
    back = unletterbox(generated, place)
    bh, bw = back.shape[:2]
    assert bh <= h and bw <= w
    assert abs(bw - bh * w / h) <= 1 or abs(bh - bw * h / w) <= 1  # aspect within 1 px
    if max(h, w) <= size * scale:
        assert (bh, bw) == (h, w)
    if min(place.h, place.w) >= 3:
        assert (back == 100).mean() > 0.95  # content, not padding


def test_letterbox_round_trip_content():
    y, x = np.mgrid[0:90, 0:240]
    img = ((x + y) % 256).astype(np.uint8)  # smooth ramp
    square, place = letterbox(img, 128)
    back = unletterbox(square, place)
    assert back.shape == (48, 128)
    expected = cv2.resize(img, (128, 48), interpolation=cv2.INTER_AREA)
    assert np.abs(back.astype(int) - expected).mean() < 3


# ----------------------------------------------------------------------------- normalize_drawing


def assert_binary(d: Drawing, shape: tuple[int, int]) -> None:
    assert d.lines.shape == shape and d.lines.dtype == np.uint8
    assert set(np.unique(d.lines)) <= {0, 255}
    assert d.colors.shape == shape + (3,) and d.colors.dtype == np.uint8
    assert d.color_mask.shape == shape and d.color_mask.dtype == bool
    assert (d.colors[~d.color_mask] == 0).all()


def test_dark_lines_on_light_paper():
    truth = scene()
    d = normalize_drawing(Image.fromarray(np.where(truth, 0, 255).astype(np.uint8)))
    assert_binary(d, truth.shape)
    assert d.source == "dark lines on light paper"
    recall, clean = recall_and_clean(d, truth)
    assert recall > 0.99 and clean > 0.999
    assert not d.color_mask.any()


def test_light_lines_on_dark_background_are_inverted():
    truth = scene()
    d = normalize_drawing(Image.fromarray(np.where(truth, 255, 0).astype(np.uint8)))
    assert_binary(d, truth.shape)
    assert "inverted" in d.source
    recall, clean = recall_and_clean(d, truth)
    assert recall > 0.99 and clean > 0.999


@pytest.mark.parametrize("stroke_rgb", [0, 255])
def test_transparent_background(stroke_rgb):
    truth = scene()
    rgba = np.zeros(truth.shape + (4,), np.uint8)
    rgba[..., :3] = stroke_rgb  # strokes exist only in alpha
    rgba[..., 3] = truth * 255
    d = normalize_drawing(Image.fromarray(rgba))
    assert_binary(d, truth.shape)
    assert "transparent" in d.source
    recall, clean = recall_and_clean(d, truth)
    assert recall > 0.99 and clean > 0.999


@pytest.mark.parametrize("seed,noise,line", [(0, 6.0, 50), (1, 10.0, 80)])
def test_photographed_paper(seed, noise, line):
    rgb, truth = photographed(seed=seed, noise=noise, line=line)
    data = encode(Image.fromarray(rgb), "JPEG", quality=85)  # as a phone would save it
    d = normalize_drawing(read_image(data))
    assert_binary(d, truth.shape)
    assert d.source.startswith("photographed paper")
    recall, clean = recall_and_clean(d, truth)
    assert recall > 0.8 and clean > 0.99
    assert (d.lines == 255).mean() > 0.9  # almost all white


def test_colour_strokes_are_lines_and_hints():
    im = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(im)
    draw.line([(20, 50), (380, 60)], fill=(220, 30, 30), width=6)  # red crayon
    draw.line([(20, 150), (380, 160)], fill=(30, 60, 220), width=6)  # blue
    draw.line([(20, 250), (380, 240)], fill=(240, 220, 0), width=6)  # yellow: light, but a stroke
    draw.line([(200, 10), (210, 290)], fill=(0, 0, 0), width=3)  # black pencil
    d = normalize_drawing(im)
    assert_binary(d, (300, 400))
    assert "coloured" in d.source
    for y, x, want in [(55, 100, 0), (155, 100, 120), (246, 100, 27)]:
        assert d.lines[y, x] == 0 and d.color_mask[y, x]
        assert abs(int(hue(d.colors[y, x])[0]) - want) <= 8
    assert d.lines[150, 205] == 0  # the black line is ink ...
    assert not d.color_mask[100, 204]  # ... but no colour
    assert not d.color_mask[100:140, :].any()


def test_colour_stroke_on_photographed_paper_keeps_its_hue():
    rgb, _ = photographed(seed=2)
    rgb = np.ascontiguousarray(rgb)
    cv2.line(rgb, (30, 200), (370, 210), (200, 40, 40), 7)
    d = normalize_drawing(Image.fromarray(rgb))
    assert d.color_mask[203:208, 60:340].mean() > 0.8
    hues = hue(d.colors[d.color_mask])
    assert ((hues <= 8) | (hues >= 172)).mean() > 0.95  # red
    assert d.color_mask.sum() < 4000  # the tinted paper is not taken for colour


def test_a_thin_light_colour_line_on_photographed_paper_stays_colour():
    rgb, _ = photographed(seed=3)
    rgb = np.ascontiguousarray(rgb)
    line = np.zeros(rgb.shape[:2], np.uint8)
    cv2.line(line, (30, 200), (370, 230), 1, 2)
    rgb[line > 0] = (200, 40, 40)  # a red felt-tip: as thin as a ballpoint, but no darker than crayon
    d = normalize_drawing(Image.fromarray(rgb))
    assert d.source.startswith("photographed paper")
    assert d.color_mask[line > 0].mean() > 0.9 and (d.lines[line > 0] == 0).mean() > 0.9


def test_studio_crayons_and_thin_coloured_pens_on_a_canvas_stay_colour():
    page = np.full((CANVAS_SIZE, CANVAS_SIZE, 3), 255, np.uint8)
    strokes = {}
    for i, name in enumerate(n for n in CRAYONS if n not in ("brown", "black")):  # those two are greys, ink only
        stroke = np.zeros(page.shape[:2], np.uint8)
        x, y = 40 + (i % 2) * 230, 40 + (i // 2) * 95
        cv2.line(stroke, (x, y), (x + 200, y + 30), 1, CRAYON_WIDTH)
        page[stroke > 0] = crayon_rgb(name)
        strokes[name] = stroke > 0
    pen = np.zeros(page.shape[:2], np.uint8)
    cv2.line(pen, (20, 20), (20, 490), 1, PEN_WIDTHS["thin"])
    page[pen > 0] = (30, 40, 140)  # as dark and thin as a ballpoint, yet drawn on the canvas: a colour
    d = normalize_drawing(Image.fromarray(page))
    assert d.source == "dark lines on light paper, with coloured strokes"
    for name, stroke in strokes.items():
        assert d.color_mask[stroke].mean() > 0.95, name
    assert d.color_mask[pen > 0].mean() > 0.95


def test_drawing_rgb_shows_lines_black_and_strokes_in_their_colour():
    lines = np.full((20, 30), 255, np.uint8)
    lines[5, :] = 0  # a pencil line
    lines[10:14, :] = 0  # a crayon stroke is ink too ...
    mask = np.zeros((20, 30), bool)
    mask[10:14, :] = True  # ... and colour
    colors = np.zeros((20, 30, 3), np.uint8)
    colors[mask] = (220, 60, 40)
    rgb = drawing_rgb(Drawing(lines=lines, colors=colors, color_mask=mask, source="test"))
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8
    assert (rgb[5] == 0).all() and (rgb[12] == (220, 60, 40)).all() and (rgb[0] == 255).all()


@pytest.mark.parametrize("paper", [(255, 230, 0), (150, 200, 255)])
def test_coloured_paper_is_not_a_colour_stroke(paper):
    truth = scene()
    img = np.empty(truth.shape + (3,), np.uint8)
    img[:] = paper
    img[truth] = 0
    d = normalize_drawing(Image.fromarray(img))
    assert recall_and_clean(d, truth) > (0.99, 0.999)
    assert d.color_mask.mean() < 0.001


def test_chalk_on_a_dark_board():
    truth = scene()
    board = np.zeros(truth.shape + (3,), np.uint8)
    board[:] = (40, 70, 50)  # green board
    board[truth] = (230, 235, 230)
    cv2.line(board, (30, 200), (370, 210), (220, 60, 60), 7)
    d = normalize_drawing(Image.fromarray(board))
    assert "inverted" in d.source
    assert recall_and_clean(d, truth)[0] > 0.99
    assert d.color_mask[203:208, 60:340].mean() > 0.8 and not d.color_mask[truth & ~(d.color_mask)].any()
    assert d.colors[205, 200].tolist() == [220, 60, 60]


@pytest.mark.parametrize("case", ["blank", "speckles", "blank photo", "black"])
def test_empty_canvas(case):
    rng = np.random.default_rng(3)
    if case == "blank":
        img = np.full((200, 300), 255, np.uint8)
    elif case == "speckles":
        img = np.full((200, 300), 255, np.uint8)
        img[rng.integers(0, 200, 6), rng.integers(0, 300, 6)] = 0
    elif case == "blank photo":
        img = np.clip(np.linspace(120, 200, 300)[None, :] + rng.normal(0, 6, (200, 300)), 0, 255).astype(np.uint8)
    else:
        img = np.zeros((200, 300), np.uint8)
    with pytest.raises(InputImageError, match="The drawing is empty") as err:
        normalize_drawing(Image.fromarray(img))
    assert err.value.hint.startswith("Draw something")


@pytest.mark.parametrize("shape", [(40, 1000), (900, 60), (12, 12)])
def test_any_size_and_aspect(shape):
    h, w = shape
    img = np.full(shape, 255, np.uint8)
    img[h // 3 : h // 3 + 3, w // 4 : 3 * w // 4] = 0
    img[h // 4 : 3 * h // 4, w // 2 : w // 2 + 2] = 0
    d = normalize_drawing(Image.fromarray(img))
    assert d.lines.shape == shape
    np.testing.assert_array_equal(d.lines == 0, img == 0)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    mode=st.sampled_from(["L", "RGB", "RGBA", "P", "1", "LA"]),
    seed=st.integers(0, 2**16),
)
def test_normalize_never_crashes(h, w, mode, seed):
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)
    img = Image.fromarray(arr, "RGBA").convert(mode)
    try:
        d = normalize_drawing(img)
    except InputImageError:
        return
    assert_binary(d, (h, w))


def test_a_board_coloured_all_over_in_light_crayon_keeps_its_colour_as_a_canvas():
    page = np.full((CANVAS_SIZE, CANVAS_SIZE, 3), 255, np.uint8)
    page[30:480, 30:480] = crayon_rgb("yellow")  # the child coloured most of the board in
    cv2.circle(page, (256, 256), 150, (0, 0, 0), PEN_WIDTHS["medium"])
    yellow = (page == crayon_rgb("yellow")).all(axis=2)
    canvas = normalize_drawing(Image.fromarray(page), canvas=True)
    assert canvas.color_mask[yellow].mean() > 0.95  # the board is white paper: yellow is crayon
    assert (canvas.lines[256, 106 - 2 : 106 + 3] < 128).any()  # and the pencil circle is a line
    upload = normalize_drawing(Image.fromarray(page))  # any picture: the most common light colour is the paper
    assert upload.color_mask[yellow].mean() < 0.05


def test_a_canvas_reads_as_any_clean_drawing_does_only_quicker():
    rng = np.random.default_rng(4)
    for _ in range(6):
        page = np.full((CANVAS_SIZE, CANVAS_SIZE, 3), 255, np.uint8)
        centre = tuple(int(v) for v in rng.integers(150, 360, 2))
        cv2.polylines(page, [rng.integers(120, 400, (5, 1, 2)).astype(np.int32)], False, crayon_rgb("red"), CRAYON_WIDTH)
        cv2.circle(page, centre, int(rng.integers(40, 140)), (0, 0, 0), int(rng.choice(list(PEN_WIDTHS.values()))), cv2.LINE_AA)
        a = normalize_drawing(Image.fromarray(page), canvas=True)
        b = normalize_drawing(Image.fromarray(page), find_page=False)
        assert np.array_equal(a.lines, b.lines) and np.array_equal(a.color_mask, b.color_mask) and np.array_equal(a.colors, b.colors)
        assert a.source == b.source == "dark lines on light paper, with coloured strokes"
