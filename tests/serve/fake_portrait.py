"""Tiny stand-ins for the photo -> character stages and a synthetic photo of a "person", for the
studio's API and browser tests: the real Stylize pipeline runs on them in milliseconds."""

from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image, ImageDraw

from icanvas.data.edges import mask_extent
from icanvas.portrait.stages import Selection
from icanvas.serve.portraits import PortraitKit

BACKGROUND = (40, 90, 200)  # RGB of the photo's sky-blue wall
SKIN = (235, 190, 160)  # RGB of the head
SHIRT = (200, 30, 40)  # RGB of the body
UPRIGHT = (480, 640)  # (width, height) of the synthetic photo as it is shown
HEAD = (240, 190, 60, 75)  # centre x, centre y, half-width, half-height of the head, px of the upright photo
BODY = (150, 270, 330, 640)  # x0, y0, x1, y1 of the body, px of the upright photo
SECRET = "SecretCam-4821"  # a camera name written into EXIF; it must never come back or reach the disk
GPS = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 40.0)}  # EXIF GPS IFD: somewhere in Seoul


def person_image() -> Image.Image:
    """The upright photo: a head and a shirt on a blue wall, (480 x 640)."""
    img = Image.new("RGB", UPRIGHT, BACKGROUND)
    d = ImageDraw.Draw(img)
    cx, cy, rx, ry = HEAD
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=SKIN)
    d.rectangle(BODY, fill=SHIRT)
    return img


def person_jpeg(rotated: bool = True, quality: int = 92) -> bytes:
    """The photo as a phone writes it: JPEG with a camera name, GPS and (``rotated``) stored sideways
    with EXIF orientation 6, so that only a reader that applies it sees the person upright."""
    img = person_image()
    exif = Image.Exif()
    exif[0x010F] = SECRET  # Make
    exif[0x0131] = SECRET + " software"  # Software
    exif[0x8825] = GPS  # GPS IFD
    if rotated:
        exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to show
        img = img.transpose(Image.Transpose.ROTATE_90)  # what exif_transpose turns back (ROTATE_270)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def photo_png(size: tuple[int, int] = UPRIGHT) -> bytes:
    buf = io.BytesIO()
    person_image().resize(size).save(buf, "PNG")
    return buf.getvalue()


class ColourSelector:
    """Stage 1 stand-in: the pixels whose colour is near a foreground click's, less those near a background click's."""

    name = "colour"

    def __init__(self, tolerance: int = 90) -> None:
        self.tolerance = tolerance  # sum of |RGB differences| that still counts as the same colour
        self.calls = 0

    def select(self, photo: np.ndarray, prompt) -> Selection:
        self.calls += 1
        img = photo.astype(np.int16)  # (H, W, 3)

        def near(p) -> np.ndarray:
            return np.abs(img - img[p.y, p.x]).sum(axis=2) <= self.tolerance  # (H, W) bool

        person = np.zeros(photo.shape[:2], bool)
        for p in prompt.points:
            if p.foreground:
                person |= near(p)
        for p in prompt.points:
            if not p.foreground:
                person &= ~near(p)
        return Selection(person.astype(np.float32), mask_extent(person) or (0, 0, 0, 0))


class GreyFiller:
    """Stage 2 stand-in: the hole becomes flat grey."""

    name = "grey"

    def fill(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = photo.copy()
        out[mask > 0.1] = (128, 128, 128)
        return out


class Inverter:
    """Stage 3 stand-in: the person's colours inverted (easy to see in any picture)."""

    scope = "person"

    def __init__(self, name: str = "toon", gate: threading.Event | None = None) -> None:
        self.name = name
        self.gate = gate  # when given, each restyle waits for it (a slow model)
        self.started = threading.Event()  # set when a restyle began

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face) -> np.ndarray:
        self.started.set()
        if self.gate is not None and not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return 255 - crop


class Styles:
    """``load_style`` of a kit: an Inverter per name, counting loads."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.loaded: list[str] = []
        self.made: dict[str, Inverter] = {}

    def __call__(self, name: str) -> Inverter:
        self.loaded.append(name)
        self.made[name] = Inverter(name, self.gate if name == "slow" else None)
        return self.made[name]


def fake_kit(styles: list[str] | None = None, gate: threading.Event | None = None) -> PortraitKit:
    """A kit of stand-in stages; ``kit.load_style.loaded`` lists the styles loaded, in order."""
    return PortraitKit(ColourSelector(), GreyFiller(), styles or ["toon", "mono"], Styles(gate), body=None)
