"""A photo of a paper drawing in the studio: the page is found and the drawing shown over the
photo, the corners can be moved by hand, and the drawing goes on the board, becomes a picture and
is saved to the album like a canvas drawing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from icanvas.eval.paper_photos import paper_photo
from tests.browser.conftest import LANDSCAPE, PHONE, PORTRAIT
from tests.browser.helpers import ink_fraction, shot, tid
from tests.browser.test_family import add_child, enter_as, register_parent

SIZES = {"phone-390x844": PHONE, "tablet-768x1024": PORTRAIT, "laptop-1024x768": LANDSCAPE}


def _photo_file(tmp_path, size: int = 1600, **kw):
    """A JPEG photo of a drawn page on a table, and the page's true corners in its px."""
    photo = paper_photo(size, seed=11, backdrop="wood", angle=16, perspective=0.06, shadow=True, **kw)
    path = tmp_path / f"page-{size}.jpg"
    Image.fromarray(photo.rgb).save(path, quality=92)
    return path, photo


def _open_photo(page, path) -> None:
    page.locator(tid("paper-file")).set_input_files(str(path))
    page.locator(f'{tid("paper-frame")}[data-state="shown"]').wait_for()


def _corners_on_screen(page) -> np.ndarray:
    """Centres of the four corner handles, as fractions (0..1) of the photo's box."""
    box = page.locator(tid("paper-frame")).bounding_box()
    inner = page.evaluate("() => { const f = document.querySelector('[data-testid=paper-frame]'); return [f.clientLeft, f.clientTop, f.clientWidth, f.clientHeight]; }")
    out = []
    for name in ("tl", "tr", "br", "bl"):
        h = page.locator(tid(f"paper-corner-{name}")).bounding_box()
        out.append(((h["x"] + h["width"] / 2 - box["x"] - inner[0]) / inner[2], (h["y"] + h["height"] / 2 - box["y"] - inner[1]) / inner[3]))
    return np.array(out)


def test_a_paper_photo_becomes_a_picture_and_goes_to_the_album(open_page, screenshot_dir, tmp_path):
    page = open_page(LANDSCAPE)
    register_parent(page)
    add_child(page, "Ari")
    page.click(tid("let-child-draw"))
    enter_as(page, "Ari")
    path, photo = _photo_file(tmp_path)
    _open_photo(page, path)
    frame = page.locator(tid("paper-frame"))
    assert frame.get_attribute("data-page") == "found"
    truth = photo.corners / np.array([photo.rgb.shape[1], photo.rgb.shape[0]])
    assert np.abs(_corners_on_screen(page) - truth).max() < 0.02  # the handles sit on the page's corners
    lines = page.locator(tid("paper-lines"))
    assert lines.evaluate("img => img.complete && img.naturalHeight > img.naturalWidth")  # the portrait page, read
    assert "matrix3d" in lines.evaluate("img => img.style.transform")  # laid over the photo in perspective
    assert "종이를 찾았어요" in page.locator(tid("paper-note")).inner_text()
    shot(page, screenshot_dir, "paper-1-found-laptop-1024x768")

    with page.expect_request("**/api/generate"):
        page.click(tid("paper-use"))
    page.locator(tid("paper-panel")).wait_for(state="detached")
    page.locator(tid("result-image")).wait_for(state="visible")
    assert 0.005 < ink_fraction(page) < 0.3  # the paper's lines are on the board, the table is not
    shot(page, screenshot_dir, "paper-2-on-the-board-laptop-1024x768")

    page.click(tid("save"))
    page.locator(tid("rewards")).wait_for()
    page.click(tid("rewards-keep"))
    page.click(tid("album-button"))
    page.locator("[data-testid^=creation-]").first.wait_for()
    assert page.locator("[data-testid^=creation-]").count() == 1
    shot(page, screenshot_dir, "paper-3-album-laptop-1024x768")
    assert not page.js_errors


def test_corners_moved_by_hand_read_the_page_again(open_page, tmp_path):
    page = open_page(LANDSCAPE)
    path, _ = _photo_file(tmp_path, size=1200)
    _open_photo(page, path)
    before = page.locator(tid("paper-lines")).evaluate("img => img.naturalHeight")
    # drag the bottom-right corner halfway up the page: the drawing read is now the top half
    br = page.locator(tid("paper-corner-br")).bounding_box()
    tr = page.locator(tid("paper-corner-tr")).bounding_box()
    with page.expect_response("**/api/paper") as answer:
        page.mouse.move(br["x"] + br["width"] / 2, br["y"] + br["height"] / 2)
        page.mouse.down()
        page.mouse.move((br["x"] + tr["x"]) / 2 + br["width"] / 2, (br["y"] + tr["y"]) / 2 + br["height"] / 2, steps=5)
        page.mouse.up()
    assert answer.value.ok and answer.value.json()["page"] == "placed"
    page.locator(f'{tid("paper-frame")}[data-page="placed"][data-state="shown"]').wait_for()
    after = page.locator(tid("paper-lines")).evaluate("img => img.naturalHeight")
    assert after < 0.85 * before
    # the keyboard moves a corner too
    with page.expect_response("**/api/paper"):
        page.locator(tid("paper-corner-tl")).focus()
        page.keyboard.press("Shift+ArrowDown")
    page.locator(f'{tid("paper-frame")}[data-state="shown"]').wait_for()
    assert page.locator(tid("paper-lines")).evaluate("img => img.naturalHeight") < after
    assert not page.js_errors


def test_a_photo_without_lines_says_so_and_can_be_taken_again(open_page, tmp_path):
    page = open_page(LANDSCAPE)
    blank = paper_photo(900, seed=4, backdrop="dark", angle=5, blank=True)
    path = tmp_path / "blank.jpg"
    Image.fromarray(blank.rgb).save(path, quality=92)
    page.locator(tid("paper-file")).set_input_files(str(path))
    page.locator(f'{tid("paper-frame")}[data-state="failed"]').wait_for()
    assert page.locator(tid("paper-use")).is_disabled()
    assert "선을 찾지 못했어요" in page.locator(tid("paper-note")).inner_text()
    good, _ = _photo_file(tmp_path, size=900)
    page.locator(tid("paper-retake-file")).set_input_files(str(good))
    page.locator(f'{tid("paper-frame")}[data-state="shown"]').wait_for()
    assert page.locator(tid("paper-use")).is_enabled()
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("not a photo")
    page.locator(tid("paper-choose-file")).set_input_files(str(not_a_photo))
    page.locator(tid("dialog-message"), has_text="JPEG").wait_for()
    assert page.locator(tid("paper-use")).is_enabled()  # the good photo is still there
    assert not page.js_errors


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_paper_panel_fits_every_screen(open_page, screenshot_dir, tmp_path, size, lang):
    viewport = SIZES[size]
    page = open_page(viewport)
    page.click(tid(f"lang-{lang}"))
    button = page.locator(tid("paper-photo-tools" if viewport == PHONE else "paper-photo"))
    assert button.is_visible() and page.locator(tid("paper-photo" if viewport == PHONE else "paper-photo-tools")).is_hidden()
    b = button.bounding_box()
    assert b["width"] >= 48 and b["height"] >= 48 and b["x"] >= 0 and b["x"] + b["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
    path, _ = _photo_file(tmp_path, size=1000)
    _open_photo(page, path)
    frame = page.locator(tid("paper-frame")).bounding_box()
    assert frame["x"] >= 0 and frame["x"] + frame["width"] <= viewport["width"]
    for name in ("paper-use", "paper-retake", "paper-choose"):
        box = page.locator(tid(name)).bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], name
    for name in ("tl", "tr", "br", "bl"):
        assert page.locator(tid(f"paper-corner-{name}")).bounding_box()["width"] >= 48
    shot(page, screenshot_dir, f"paper-panel-{lang}-{size}")
    assert not page.js_errors
