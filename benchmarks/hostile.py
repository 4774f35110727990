"""Hostile uploads for benchmarks/fuzz.py: broken files and broken requests, by kind.

:data:`KINDS` maps a kind's name to a function of a :class:`Ctx` (the route and the file field
under test, the server's upload limit, a seeded random source) that returns the request as an
:class:`Upload`: multipart files and fields, a raw body, or a whole hand-framed HTTP request.
Files that are the same every time are built once (:func:`fixed`; the largest take a second).
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

import studio_probe as sp

BIG_SIDE = 16_000_000  # the long side of the strip images, px (16 megapixels: the default pixel limit)


# ================================================================ building hostile files


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_raw(w: int, h: int, depth: int, colour: int, idat: bytes, extra: bytes = b"", interlace: int = 0) -> bytes:
    """A PNG from a compressed IDAT stream (``colour``: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA)."""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    return PNG_MAGIC + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def same_rows(row: bytes, h: int) -> bytes:
    """zlib stream of ``h`` identical filtered rows (filter byte 0 + ``row``)."""
    z = zlib.compressobj(9)
    line = b"\x00" + row
    block = line * max(1, 2**20 // len(line))  # ~1 MB at a time
    out, left = [], h
    while left:
        n = min(left, len(block) // len(line))
        out.append(z.compress(block[: n * len(line)]))
        left -= n
    return b"".join(out) + z.flush()


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@cache
def drawing_image() -> Image.Image:
    """A 512 px drawing (load.py's pencil strokes)."""
    return Image.open(io.BytesIO(sp.make_drawings(np.random.default_rng(7), 1)[0])).convert("RGB")


@cache
def drawing_png() -> bytes:
    return encode(drawing_image(), "PNG")


@cache
def drawing_jpeg() -> bytes:
    return encode(drawing_image(), "JPEG", quality=90)


@cache
def drawing_webp() -> bytes:
    return encode(drawing_image(), "WEBP", quality=80)


def corrupt(data: bytes, rng: random.Random, start: int = 16, flips: int = 24) -> bytes:
    b = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(min(start, len(b) - 1), len(b))
        b[i] = rng.randrange(256)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data) - 1)]


def png_16bit(colour: int) -> bytes:
    """The drawing as a 16-bit grey (0) or RGB (2) PNG."""
    a = np.asarray(drawing_image().convert("L" if colour == 0 else "RGB"), np.uint16) * 257  # (H, W[, 3])
    h, w = a.shape[:2]
    rows = a.astype(">u2").reshape(h, -1).view(np.uint8)  # big-endian bytes per row
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], 1).tobytes()
    return png_raw(w, h, 16, colour, zlib.compress(raw))


def png_interlaced() -> bytes:
    """The drawing as an Adam7-interlaced 8-bit grey PNG."""
    a = np.asarray(drawing_image().convert("L"))
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b"".join(b"".join(b"\x00" + row.tobytes() for row in a[y0::dy, x0::dx]) for x0, y0, dx, dy in passes)
    return png_raw(a.shape[1], a.shape[0], 8, 0, zlib.compress(raw), interlace=1)


def with_chunks_before_idat(png: bytes, extra: bytes) -> bytes:
    """``png`` (from PIL: IHDR first, 33 bytes) with ``extra`` chunks right after its header."""
    return png[:33] + extra + png[33:]


def exif_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation: 1..8 are valid
    return encode(drawing_image(), "JPEG", exif=exif.tobytes())


def jpeg_with_app1(payload: bytes) -> bytes:
    jpg = drawing_jpeg()
    return jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpg[2:]


def jpeg_dims(data: bytes, w: int, h: int) -> bytes:
    """A JPEG whose frame header (SOF0) says ``w`` x ``h``."""
    i = data.index(b"\xff\xc0")
    return data[: i + 5] + struct.pack(">HH", h, w) + data[i + 9:]


def webp_canvas(w: int, h: int) -> bytes:
    """A WebP with an extended header (VP8X) declaring a ``w`` x ``h`` canvas around the small drawing."""
    body = drawing_webp()[12:]  # the VP8 chunk after "RIFF" size "WEBP"
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    payload = b"WEBP" + vp8x + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"".join([b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"")] * 10))
                             for i in range(1, 10))
                  + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>')
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/MediaBox[0 0 512 512]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512"><circle cx="256" cy="256" r="100" stroke="black" fill="none"/></svg>'


def lines_on(w: int, h: int, mode: str = "RGB") -> Image.Image:
    img = Image.new(mode, (w, h), "white")
    d = ImageDraw.Draw(img)
    s = max(2, min(w, h) // 64)
    d.ellipse([w * 0.3, h * 0.3, w * 0.7, h * 0.7], outline="black", width=s)
    d.line([w * 0.2, h * 0.8, w * 0.8, h * 0.2], fill="black", width=s)
    return img


@cache
def fixed(name: str) -> bytes:
    """Hostile files that are the same every time (built once, some take a second)."""
    img = drawing_image()
    ink = np.asarray(img.convert("L")) < 128
    if name == "png-16bit-grey":
        return png_16bit(0)
    if name == "png-16bit-rgb":
        return png_16bit(2)
    if name == "png-interlaced":
        return png_interlaced()
    if name == "png-palette":
        return encode(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG")
    if name == "png-palette-transparent":
        return encode(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG", transparency=0)
    if name == "png-grey-alpha":
        return encode(img.convert("LA"), "PNG")
    if name == "png-1bit":
        return encode(img.convert("1"), "PNG")
    if name == "png-alpha-lines":  # black lines, everything else see-through
        a = np.zeros((*ink.shape, 4), np.uint8)
        a[..., 3] = ink * 255
        return encode(Image.fromarray(a, "RGBA"), "PNG")
    if name == "empty-transparent":
        return encode(Image.new("RGBA", img.size, (0, 0, 0, 0)), "PNG")
    if name == "empty-white":
        return encode(Image.new("RGB", img.size, "white"), "PNG")
    if name == "empty-black":
        return encode(Image.new("RGB", img.size, "black"), "PNG")
    if name == "noise":
        return encode(Image.fromarray(np.random.default_rng(1).integers(0, 256, (512, 512, 3), np.uint8)), "PNG")
    if name == "jpeg-cmyk":
        return encode(img.convert("CMYK"), "JPEG")
    if name == "jpeg-grey":
        return encode(img.convert("L"), "JPEG")
    if name == "jpeg-progressive":
        return encode(img, "JPEG", progressive=True)
    if name == "gif":
        return encode(img.convert("P"), "GIF")
    if name == "gif-huge-screen":
        g = bytearray(fixed("gif"))
        g[6:10] = struct.pack("<HH", 65535, 65535)
        return bytes(g)
    if name == "bmp":
        return encode(img, "BMP")
    if name == "tiff":
        return encode(img, "TIFF", compression="tiff_deflate")
    if name == "ico":
        return encode(img, "ICO")
    if name == "bomb-png-header":  # 10 gigapixels declared, a tiny IDAT
        return png_raw(100_000, 100_000, 8, 2, zlib.compress(b"\x00" * 1000))
    if name == "bomb-png-zero-width":
        return png_raw(0, 512, 8, 2, zlib.compress(b"\x00"))
    if name == "bomb-png-zlib":  # 4000x4000 16-bit RGBA (128 MB decoded) from 130 KB
        return png_raw(4000, 4000, 16, 6, same_rows(b"\xff" * 4000 * 8, 4000))
    if name == "bomb-png-text":  # a zTXt chunk that inflates to 100 MB
        return with_chunks_before_idat(drawing_png(), chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 100_000_000, 9)))
    if name == "bomb-png-iccp":  # an ICC profile that inflates to 100 MB
        return with_chunks_before_idat(drawing_png(), chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 100_000_000, 9)))
    if name == "png-many-chunks":
        return with_chunks_before_idat(drawing_png(), b"".join(chunk(b"tEXt", b"k%d\x00v" % i) for i in range(20_000)))
    if name == "bomb-jpeg-header":
        return jpeg_dims(drawing_jpeg(), 65_500, 65_500)
    if name == "bomb-webp-canvas":
        return webp_canvas(16_383, 16_383)
    if name == "strip-1x16M":
        return png_raw(1, BIG_SIDE, 8, 0, same_rows(b"\xff", BIG_SIDE))
    if name == "strip-16Mx1":
        return png_raw(BIG_SIDE, 1, 8, 2, same_rows(b"\xff" * 3 * BIG_SIDE, 1))
    if name == "strip-1x4000":
        return encode(lines_on(1, 4000, "L"), "PNG")
    if name == "strip-4000x1":
        return encode(lines_on(4000, 1, "L"), "PNG")
    if name == "strip-3x4000-lines":
        a = np.full((4000, 3), 255, np.uint8)
        a[::7] = 0
        return encode(Image.fromarray(a), "PNG")
    if name == "big-4000x4000-white":
        return encode(lines_on(4000, 4000), "PNG")
    if name == "big-4000x4000-jpeg":
        return encode(lines_on(4000, 4000), "JPEG", quality=85)
    if name == "exif-orientation-9":
        return exif_jpeg(9)
    if name == "exif-orientation-0":
        return exif_jpeg(0)
    if name == "exif-orientation-65535":
        return exif_jpeg(65535)
    if name == "exif-ifd-loop":  # an IFD whose next-IFD offset points at itself
        tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 6) + struct.pack("<I", 8)
        return jpeg_with_app1(b"Exif\x00\x00" + tiff)
    if name == "exif-huge-count":  # an IFD that claims 65535 entries and has none
        return jpeg_with_app1(b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 65535))
    if name == "png-exif-junk":
        return with_chunks_before_idat(drawing_png(), chunk(b"eXIf", b"II*\x00\xff\xff\xff\xff" + bytes(range(256)) * 4))
    if name == "svg":
        return SVG
    if name == "svg-entities":
        return BILLION_LAUGHS
    if name == "pdf":
        return PDF
    raise KeyError(name)


# ================================================================ requests


@dataclass
class Upload:
    """One request: multipart ``files`` + ``data``, or a raw ``content`` body, or a whole ``raw`` HTTP request."""

    files: list[tuple[str, tuple[str, bytes, str]]] | None = None  # (field, (filename, bytes, content type))
    data: dict[str, str] | None = None  # form fields
    content: bytes | None = None  # a body sent as is (with headers["Content-Type"])
    stream: bool = False  # send ``content`` chunked (Transfer-Encoding: chunked)
    headers: dict[str, str] = field(default_factory=dict)
    raw: tuple[list[str], bytes, bool] | None = None  # (extra header lines, body, half-close after sending)


@dataclass
class Route:
    """An upload route and the file field the hostile file goes in (the route's other fields get good values)."""

    op: sp.Op
    field: str  # the file field under test
    fields: dict[str, str]  # the other form fields, valid: required ones and those the studio knows a value for
    files: list[str]  # the other file fields that are required (sent a good drawing)

    @property
    def name(self) -> str:
        return f"{self.op.name} {self.field}"


def upload_routes(spec: dict, values: dict) -> list[Route]:
    """Every (multipart route, file field) of an OpenAPI schema; ``values`` fill the other fields by name."""
    out = []
    for op in sp.operations(spec):
        required = sp.resolve(op.body, spec).get("required", []) if op.body else []
        for f in op.file_fields(spec):
            out.append(Route(op, f, sp.form_fields(op, spec, values), [g for g in op.file_fields(spec) if g != f and g in required]))
    return out


@dataclass
class Ctx:
    """What a kind needs to build a request for one route."""

    route: Route
    max_bytes: int
    rng: random.Random

    @property
    def path(self) -> str:
        return self.route.op.path

    @property
    def field(self) -> str:
        return self.route.field

    def fields(self) -> dict[str, str]:
        return dict(self.route.fields)

    def others(self) -> list[tuple[str, tuple[str, bytes, str]]]:
        return [(g, (f"{g}.png", drawing_png(), "image/png")) for g in self.route.files]

    def image(self, data: bytes, filename: str = "drawing.png", ctype: str = "image/png") -> Upload:
        """The hostile file in the field under test, next to good files in the route's other required file fields."""
        return Upload(files=self.others() + [(self.field, (filename, data, ctype))], data=self.fields())


def multipart(parts: list[tuple[str, bytes]], boundary: str, close: bool = True) -> bytes:
    """A multipart body from (part headers, part body) pairs, written by hand (so it can be broken)."""
    out = b"".join(b"--" + boundary.encode() + b"\r\n" + head.encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body + b"\r\n"
                   for head, body in parts)
    return out + (b"--" + boundary.encode() + b"--\r\n" if close else b"")


def file_part(name: str, filename: str, data: bytes, ctype: str = "image/png") -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}', data


def text_part(name: str, value: str) -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"', value.encode("utf-8", "surrogateescape")


def good_parts(ctx: Ctx, filename: str = "drawing.png") -> list[tuple[str, bytes]]:
    """A valid request's parts, written by hand; ``filename`` is the name of the file under test."""
    files = [file_part(g, name, data, ctype) for g, (name, data, ctype) in ctx.others()]
    return files + [file_part(ctx.field, filename, drawing_png())] + [text_part(k, v) for k, v in ctx.fields().items()]


def raw_multipart(ctx: Ctx, body: bytes, boundary: str = "probeboundary") -> Upload:
    return Upload(content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def image_kind(build: Callable[[Ctx], bytes], filename: str = "drawing.png", ctype: str = "image/png") -> Callable[[Ctx], Upload]:
    return lambda ctx: ctx.image(build(ctx), filename, ctype)


def fixed_kind(name: str, filename: str = "drawing.png", ctype: str = "image/png") -> Callable[[Ctx], Upload]:
    return image_kind(lambda ctx: fixed(name), filename, ctype)


def oversized(ctx: Ctx) -> bytes:
    return drawing_png() + b"\x00" * (ctx.max_bytes + 1024 - len(drawing_png()))  # a real PNG, then junk past the limit


def fields_kind(fields: Callable[[Ctx], dict[str, str]]) -> Callable[[Ctx], Upload]:
    def build(ctx: Ctx) -> Upload:
        up = ctx.image(drawing_png())
        up.data = {**ctx.fields(), **fields(ctx)}
        return up
    return build


def cl_lie(extra: list[str], body_of: Callable[[Ctx, bytes], bytes], half_close: bool) -> Callable[[Ctx], Upload]:
    """A raw request with a hand-written framing header (Content-Length lies and the like)."""
    def build(ctx: Ctx) -> Upload:
        return Upload(raw=(extra, body_of(ctx, multipart(good_parts(ctx), "probeboundary")), half_close))
    return build


def chunked(body: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096]) for i in range(0, len(body), 4096)) + b"0\r\n\r\n"


BAD_KINDS = ["", "x" * 41, "../../etc/passwd", "\x00", "cat\r\nX-Evil: 1", "\U0001F431" * 10, "CAT", " cat"]

KINDS: dict[str, Callable[[Ctx], Upload]] = {
    # broken files of the accepted formats
    "png-truncated": image_kind(lambda c: truncate(drawing_png(), c.rng)),
    "png-corrupt": image_kind(lambda c: corrupt(drawing_png(), c.rng)),
    "png-bad-crc": image_kind(lambda c: drawing_png()[:29] + b"\x00\x00\x00\x00" + drawing_png()[33:]),
    "png-no-idat": image_kind(lambda c: drawing_png()[:33] + chunk(b"IEND", b"")),
    "png-no-iend": image_kind(lambda c: drawing_png()[:-12]),
    "jpeg-truncated": image_kind(lambda c: truncate(drawing_jpeg(), c.rng), "d.jpg", "image/jpeg"),
    "jpeg-corrupt": image_kind(lambda c: corrupt(drawing_jpeg(), c.rng, start=200), "d.jpg", "image/jpeg"),
    "webp-truncated": image_kind(lambda c: truncate(drawing_webp(), c.rng), "d.webp", "image/webp"),
    "webp-corrupt": image_kind(lambda c: corrupt(drawing_webp(), c.rng, start=30), "d.webp", "image/webp"),
    "wrong-magic": image_kind(lambda c: b"\xff\xd8\xff\xe0" + drawing_png()[4:]),
    "random-bytes": image_kind(lambda c: c.rng.randbytes(c.rng.randrange(1, 100_000))),
    "zero-bytes": image_kind(lambda c: b""),
    # other formats
    "gif": fixed_kind("gif", "d.gif", "image/gif"),
    "gif-huge-screen": fixed_kind("gif-huge-screen", "d.gif", "image/gif"),
    "bmp": fixed_kind("bmp", "d.bmp", "image/bmp"),
    "tiff": fixed_kind("tiff", "d.tiff", "image/tiff"),
    "ico": fixed_kind("ico", "d.ico", "image/x-icon"),
    "pdf": fixed_kind("pdf", "d.pdf", "application/pdf"),
    "svg": fixed_kind("svg", "d.svg", "image/svg+xml"),
    "svg-entities": fixed_kind("svg-entities", "d.svg", "image/svg+xml"),
    # decompression bombs and impossible sizes
    "bomb-png-header": fixed_kind("bomb-png-header"),
    "bomb-png-zero-width": fixed_kind("bomb-png-zero-width"),
    "bomb-png-zlib": fixed_kind("bomb-png-zlib"),
    "bomb-png-text": fixed_kind("bomb-png-text"),
    "bomb-png-iccp": fixed_kind("bomb-png-iccp"),
    "bomb-jpeg-header": fixed_kind("bomb-jpeg-header", "d.jpg", "image/jpeg"),
    "bomb-webp-canvas": fixed_kind("bomb-webp-canvas", "d.webp", "image/webp"),
    "png-many-chunks": fixed_kind("png-many-chunks"),
    "oversized": image_kind(oversized),
    # extreme shapes
    "strip-1x16M": fixed_kind("strip-1x16M"),
    "strip-16Mx1": fixed_kind("strip-16Mx1"),
    "strip-1x4000": fixed_kind("strip-1x4000"),
    "strip-4000x1": fixed_kind("strip-4000x1"),
    "strip-3x4000-lines": fixed_kind("strip-3x4000-lines"),
    "big-4000x4000-white": fixed_kind("big-4000x4000-white"),
    "big-4000x4000-jpeg": fixed_kind("big-4000x4000-jpeg", "d.jpg", "image/jpeg"),
    # pixel modes
    "png-16bit-grey": fixed_kind("png-16bit-grey"),
    "png-16bit-rgb": fixed_kind("png-16bit-rgb"),
    "png-palette": fixed_kind("png-palette"),
    "png-palette-transparent": fixed_kind("png-palette-transparent"),
    "png-grey-alpha": fixed_kind("png-grey-alpha"),
    "png-alpha-lines": fixed_kind("png-alpha-lines"),
    "png-1bit": fixed_kind("png-1bit"),
    "png-interlaced": fixed_kind("png-interlaced"),
    "jpeg-cmyk": fixed_kind("jpeg-cmyk", "d.jpg", "image/jpeg"),
    "jpeg-grey": fixed_kind("jpeg-grey", "d.jpg", "image/jpeg"),
    "jpeg-progressive": fixed_kind("jpeg-progressive", "d.jpg", "image/jpeg"),
    # EXIF junk
    "exif-orientation-9": fixed_kind("exif-orientation-9", "d.jpg", "image/jpeg"),
    "exif-orientation-0": fixed_kind("exif-orientation-0", "d.jpg", "image/jpeg"),
    "exif-orientation-65535": fixed_kind("exif-orientation-65535", "d.jpg", "image/jpeg"),
    "exif-garbage": image_kind(lambda c: jpeg_with_app1(b"Exif\x00\x00" + c.rng.randbytes(2000)), "d.jpg", "image/jpeg"),
    "exif-ifd-loop": fixed_kind("exif-ifd-loop", "d.jpg", "image/jpeg"),
    "exif-huge-count": fixed_kind("exif-huge-count", "d.jpg", "image/jpeg"),
    "png-exif-junk": fixed_kind("png-exif-junk"),
    # empty canvases
    "empty-white": fixed_kind("empty-white"),
    "empty-transparent": fixed_kind("empty-transparent"),
    "empty-black": fixed_kind("empty-black"),
    "noise": fixed_kind("noise"),
    # form fields and content types
    "wrong-content-type": lambda c: c.image(drawing_png(), "drawing.exe", "text/html"),
    "filename-junk": lambda c: raw_multipart(c, multipart(good_parts(c, "../../\x00evil\".png\r\nX: 1"), "probeboundary")),
    "missing-file": lambda c: Upload(data=c.fields(), files=c.others() + [("other", ("x.png", drawing_png(), "image/png"))]),
    "file-as-text": lambda c: raw_multipart(c, multipart([text_part(c.field, "iVBORw0KGgo=")]
                                                         + [text_part(k, v) for k, v in c.fields().items()], "probeboundary")),
    "missing-fields": lambda c: Upload(files=c.others() + [(c.field, ("d.png", drawing_png(), "image/png"))]),
    "bad-kind": fields_kind(lambda c: {"kind": c.rng.choice(BAD_KINDS)}),
    "bad-numbers": fields_kind(lambda c: {"colours": c.rng.choice(["-1", "99999", "abc", "1e9"]),
                                          "seconds": c.rng.choice(["nan", "inf", "-1", "1e999", ""]),
                                          "mission_id": c.rng.choice(["x" * 61, "\x00", "../x"])}),
    "huge-form-field": fields_kind(lambda c: {"kind": "k" * (2 * 2**20)}),
    "many-fields": fields_kind(lambda c: {f"f{i}": "v" for i in range(200)}),
    "many-files": lambda c: Upload(files=[(c.field, (f"d{i}.png", drawing_png(), "image/png")) for i in range(6)], data=c.fields()),
    "duplicate-file": lambda c: Upload(files=c.others() + [(c.field, ("a.png", drawing_png(), "image/png")),
                                                           (c.field, ("b.png", truncate(drawing_png(), c.rng), "image/png"))],
                                       data=c.fields()),
    "json-body": lambda c: Upload(content=b'{"drawing": "iVBORw0KGgo=", "kind": "cat"}', headers={"Content-Type": "application/json"}),
    "urlencoded-body": lambda c: Upload(content=b"drawing=%89PNG&kind=cat", headers={"Content-Type": "application/x-www-form-urlencoded"}),
    "no-content-type": lambda c: Upload(content=drawing_png()),
    "text-plain": lambda c: Upload(content=drawing_png(), headers={"Content-Type": "text/plain"}),
    # multipart garbage
    "multipart-garbage": lambda c: raw_multipart(c, c.rng.randbytes(c.rng.randrange(1, 50_000))),
    "multipart-no-boundary": lambda c: Upload(content=multipart(good_parts(c), "b"), headers={"Content-Type": "multipart/form-data"}),
    "multipart-wrong-boundary": lambda c: raw_multipart(c, multipart(good_parts(c), "otherboundary")),
    "multipart-unterminated": lambda c: raw_multipart(c, multipart(good_parts(c), "probeboundary", close=False)),
    "multipart-long-boundary": lambda c: raw_multipart(c, multipart(good_parts(c), "b" * 2000), "b" * 2000),
    "multipart-huge-header": lambda c: raw_multipart(c, multipart([("X-Junk: " + "j" * 200_000 + "\r\n"
                                                                     + file_part(c.field, "d.png", b"")[0], drawing_png())]
                                                                  + [p for p in good_parts(c) if f'name="{c.field}"' not in p[0]],
                                                                  "probeboundary")),
    "multipart-no-headers": lambda c: raw_multipart(c, b"--probeboundary\r\n\r\n" + drawing_png() + b"\r\n--probeboundary--\r\n"),
    "multipart-chunked": lambda c: Upload(content=multipart(good_parts(c), "probeboundary"), stream=True,
                                          headers={"Content-Type": "multipart/form-data; boundary=probeboundary"}),
    # framing lies, over a raw socket
    "cl-short": cl_lie(["Content-Length: {n_short}"], lambda c, b: b, False),
    "cl-long-cut": cl_lie(["Content-Length: {n_long}"], lambda c, b: b, True),
    "cl-huge": cl_lie(["Content-Length: 1000000000000"], lambda c, b: b, True),
    "cl-not-a-number": cl_lie(["Content-Length: 12abc"], lambda c, b: b, False),
    "cl-negative": cl_lie(["Content-Length: -1"], lambda c, b: b, False),
    "cl-twice": cl_lie(["Content-Length: {n}", "Content-Length: 5"], lambda c, b: b, False),
    "cl-and-chunked": cl_lie(["Content-Length: {n}", "Transfer-Encoding: chunked"], lambda c, b: chunked(b), False),
    "chunked-bad-size": cl_lie(["Transfer-Encoding: chunked"], lambda c, b: b"fffffffffffffffff\r\n" + b[:1000], True),
}
