"""Making pictures as a guest: the button, live preview, the recognizer's guess, downloading the
pair, and the layout on a tablet (both ways) and a phone."""

from __future__ import annotations

from tests.browser.conftest import LANDSCAPE, PHONE, PORTRAIT
from tests.browser.helpers import draw, draw_circle, ink_fraction, shot, tid


def test_draw_and_make_it_real(open_page, screenshot_dir):
    page = open_page(LANDSCAPE)
    assert ink_fraction(page) == 0
    draw_circle(page)
    page.click(tid("crayon-red"))
    draw(page, [(0.3, 0.7), (0.7, 0.7)])
    assert ink_fraction(page) > 0.01
    page.click(tid("generate"))
    picture = page.locator(tid("result-image"))
    picture.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('[data-testid=result-image]').naturalWidth > 0")
    assert page.locator(tid("download")).is_enabled()
    assert page.locator(tid("result")).get_attribute("data-state") == "picture"
    page.wait_for_timeout(600)  # let the appear animation finish before the screenshot
    shot(page, screenshot_dir, "02-picture-1024x768")
    assert page.js_errors == []


def test_live_preview_makes_a_picture_after_a_stroke(open_page):
    page = open_page(LANDSCAPE)
    page.click(tid("live"))
    assert page.locator(tid("live-toggle")).is_checked()
    draw_circle(page)
    page.locator(tid("result-image")).wait_for(state="visible")


def test_portrait_and_phone_layouts(open_page, screenshot_dir):
    for name, size in (("768x1024", PORTRAIT), ("390x844", PHONE)):
        page = open_page(size, reduced_motion="reduce" if size == PHONE else "no-preference")
        draw_circle(page, r=0.3)
        page.click(tid("generate"))
        page.locator(tid("result-image")).wait_for(state="visible")
        page.wait_for_timeout(600)
        canvas = page.locator(tid("canvas")).bounding_box()
        assert canvas["width"] >= min(size["width"], size["height"]) * 0.5
        assert abs(canvas["width"] - canvas["height"]) < 2
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]  # no sideways scrolling
        animated = page.locator(tid("result-image")).evaluate("(img) => img.classList.contains('appear')")
        assert animated == (size != PHONE)  # no animation for people who asked for less motion
        page.screenshot(path=str(screenshot_dir / f"03-picture-{name}.png"), full_page=True)
        assert page.js_errors == []



def test_recognizer_guess_and_kind_preselection(open_page):
    page = open_page(LANDSCAPE)
    guess = page.locator(tid("guess"))
    draw_circle(page)  # the fake recognizer is sure it is a cat (0.9, above its pre-selection threshold of 0.5)
    guess.wait_for(state="visible")
    assert "고양이인가요?" in guess.inner_text()
    page.locator(f'{tid("kind-cat")}[aria-checked=true]').wait_for()
    page.click(tid("kind-shoe"))  # chosen by hand: the guess banner goes, and the guess no longer changes the kind
    assert guess.is_hidden()
    draw(page, [(0.2, 0.8), (0.8, 0.8)])
    page.wait_for_timeout(1500)  # past the guess delay (500 ms): a guess would have arrived by now
    assert guess.is_hidden()
    assert page.locator(tid("kind-shoe")).get_attribute("aria-checked") == "true"
    page.click(tid("clear"))
    page.click(tid("confirm-ok"))
    page.locator(tid("confirm-clear")).wait_for(state="detached")
    assert guess.is_hidden()
    draw_circle(page)  # a new drawing: the guess shows and picks the kind again
    guess.wait_for(state="visible")
    page.locator(f'{tid("kind-cat")}[aria-checked=true]').wait_for()
    assert page.js_errors == []


def test_download_the_pair(open_page, tmp_path):
    from PIL import Image

    page = open_page(LANDSCAPE)
    draw_circle(page)
    page.click(tid("generate"))
    page.locator(tid("result-image")).wait_for(state="visible")
    with page.expect_download() as info:
        page.click(tid("download"))
    path = tmp_path / "pair.png"
    info.value.save_as(path)
    assert info.value.suggested_filename.startswith("icanvas-cat-")
    with Image.open(path) as img:
        width, height = img.size
        left = img.convert("L").crop((24, 24, 24 + 512, 24 + 512))
    assert (width, height) == (2 * 512 + 3 * 24, 512 + 2 * 24)
    assert left.getextrema()[0] < 50  # the drawing's black ink is in the left half
