"""`icanvas stylize` with stand-in selector and restyler factories: files written, prompt parsed, clean errors."""

from __future__ import annotations

import types

import numpy as np
import pytest
from PIL import Image

from icanvas.portrait.cartoon import CartoonRestyler
from icanvas.portrait.prompts import parse_box, parse_points
from icanvas.portrait.stages import Point, Selection
from tests.cli_run import run_cli as run


class Recorder:
    """Stand-ins for icanvas.portrait.select and icanvas.portrait.restyle that record how they were called."""

    def __init__(self) -> None:
        self.prompts, self.factory_args, self.styles = [], [], []

    def selector(self, sam_encoder=None, sam_decoder=None):
        self.factory_args.append((sam_encoder, sam_decoder))
        prompts = self.prompts

        class Selector:
            name = "stand-in"

            def select(self, photo, prompt):
                prompts.append(prompt)
                h, w = photo.shape[:2]
                mask = np.zeros((h, w), np.float32)
                mask[h // 4 : h, w // 3 : 2 * w // 3] = 1
                return Selection(mask, (w // 3, h // 4, 2 * w // 3, h), face=(w // 3 + 5, h // 4 + 5, 2 * w // 3 - 5, h // 2))

        return Selector()

    def restyler(self, style):
        self.styles.append(style)
        if style == "cartoon":
            return CartoonRestyler()

        class Restyler:
            name = "stand-in-face"
            scope = "face"  # trained on faces: the cartoon treatment does the body

            def restyle(self, crop, mask, face):
                return np.full(crop.shape, (255, 0, 0), np.uint8)

        return Restyler()


@pytest.fixture
def stages(monkeypatch):
    rec = Recorder()
    select = types.ModuleType("icanvas.portrait.select")
    select.default_selector, select.parse_points, select.parse_box = rec.selector, parse_points, parse_box  # the real parsers
    restyle = types.ModuleType("icanvas.portrait.restyle")
    restyle.load_restyler = rec.restyler
    monkeypatch.setitem(__import__("sys").modules, "icanvas.portrait.select", select)
    monkeypatch.setitem(__import__("sys").modules, "icanvas.portrait.restyle", restyle)
    return rec


@pytest.fixture
def photo_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(path)
    return path


def test_help_has_an_example(monkeypatch, capsys):
    code, text = run(monkeypatch, capsys, "stylize", "--help")
    assert code == 0 and "icanvas stylize" in text and "--point" in text and "--inpaint-model" in text


def test_stylize_writes_the_picture_and_the_debug_files(monkeypatch, capsys, tmp_path, stages, photo_file):
    out, dbg = tmp_path / "out.png", tmp_path / "dbg"
    code, text = run(monkeypatch, capsys, "stylize", photo_file, "--point", "60,50", "--point=-5,5", "--bg-point", "7,8",
                     "--box", "10,10,110,88", "--style", "anime", "--debug", dbg, "-o", out)
    assert code == 0, text
    assert Image.open(out).size == (120, 90)
    assert sorted(p.name for p in dbg.iterdir()) == ["background.png", "crop.png", "mask.png", "overlay.png", "restyled.png"]
    (prompt,) = stages.prompts
    assert prompt.points == (Point(60, 50), Point(5, 5, False), Point(7, 8, False)) and prompt.box == (10, 10, 110, 88)
    assert stages.styles == ["anime"] and stages.factory_args == [(None, None)]
    assert "stand-in-face + cartoon body" in text
    for stage in ("select", "fill", "restyle", "compose", "total"):
        assert stage in text


def test_default_style_and_a_whole_person_style(monkeypatch, capsys, tmp_path, stages, photo_file):
    code, text = run(monkeypatch, capsys, "stylize", photo_file, "--point", "60,50", "-o", tmp_path / "a.png")
    assert code == 0, text
    code, text = run(monkeypatch, capsys, "stylize", photo_file, "--point", "60,50", "--style", "cartoon", "-o", tmp_path / "c.png")
    assert code == 0, text
    assert stages.styles == [None, "cartoon"] and "restyle cartoon)" in text  # no separate body for a whole-person style


@pytest.mark.parametrize("args, message", [
    (["--point", "500,50"], "outside the photo (120x90)"),
    (["--point", "60,5x"], "Cannot read the point"),
    (["--point", "60,50", "--inpaint", "magic"], "Unknown inpainting 'magic'"),
    (["--point", "60,50", "--inpaint-model", "nowhere/big-lama.pt"], "LaMa model file"),
])
def test_errors_are_printed_without_a_traceback(monkeypatch, capsys, tmp_path, stages, photo_file, args, message):
    code, text = run(monkeypatch, capsys, "stylize", photo_file, *args, "-o", tmp_path / "x.png")
    assert code == 2 and message in text and "Traceback" not in text and not (tmp_path / "x.png").exists()


def test_bad_photo_and_output_name(monkeypatch, capsys, tmp_path, stages):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken")
    code, text = run(monkeypatch, capsys, "stylize", bad, "--point", "1,1", "-o", tmp_path / "x.png")
    assert code == 2 and "bad.jpg" in text and "Traceback" not in text
    code, text = run(monkeypatch, capsys, "stylize", bad, "--point", "1,1", "-o", tmp_path / "x.txt")
    assert code == 2 and "not a picture file name" in text
