"""The grown-ups' photo -> character page in a real browser, with stand-in stages: a parent signs
in, opens the page, uploads a synthetic photo, taps the person, sees the overlay, picks a style,
makes the character, downloads it and keeps it in their own album; on a phone (touch), a tablet
held upright and a laptop, in Korean and English. Screenshots go to ICANVAS_SCREENSHOTS."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.browser.conftest import PHONE, PORTRAIT, FakeRecognizer, LiveServer, _page_opener
from tests.browser.helpers import tid
from tests.browser.test_family import add_child, enter_as, register_parent
from tests.serve.fake_portrait import BODY, HEAD, UPRIGHT, fake_kit, person_jpeg

LAPTOP = {"width": 1280, "height": 800}
ON_SHIRT = ((BODY[0] + BODY[2]) / 2 / UPRIGHT[0], 0.8)  # fractions of the photo's box
ON_HEAD = (HEAD[0] / UPRIGHT[0], HEAD[1] / UPRIGHT[1])
MIN_TARGET_PX = 44  # smallest side of a button a finger has to hit, CSS px


@pytest.fixture(scope="module")
def portrait_server(tmp_path_factory, pipelines):  # noqa: F811  (session fixture of tests.serve.conftest)
    """A fresh studio with stand-in photo -> character stages, one per test module."""
    from icanvas.serve.app import create_app
    from icanvas.serve.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("portrait-data"), database_url="", gen_window_ms=0, model_path="")
    app = create_app(settings, pipelines=pipelines, recognizer=FakeRecognizer(), portrait=fake_kit(["toon", "mono"]))
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def open_portrait_page(chromium, portrait_server):
    yield from _page_opener(chromium, portrait_server.url)


def open_panel(page, lang: str, email: str) -> None:
    """Sign up as a grown-up and open the photo page from the grown-ups' corner."""
    if lang == "en":
        page.click(tid("lang-en"))
    page.click(tid("grownups-button"))
    assert page.locator(tid("parent-portrait")).count() == 0  # not for a guest
    page.click(tid("dialog-close"))
    register_parent(page, email)
    page.click(tid("parent-portrait"))
    page.locator(tid("portrait-panel")).wait_for()
    page.locator(tid("portrait-album-empty")).wait_for()


def tap_photo(page, at: tuple[float, float], touch: bool, right: bool = False) -> None:
    box = page.locator(tid("portrait-frame")).bounding_box()
    x, y = box["x"] + at[0] * box["width"], box["y"] + at[1] * box["height"]
    if right:
        page.mouse.click(x, y, button="right")
    elif touch:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def coverage_after(page, clicks: int) -> float:
    """The share of the photo the overlay shows as the person, once the mask of ``clicks`` clicks is painted."""
    page.locator(f'{tid("portrait-clicks")}:text-matches("{clicks}")').wait_for()
    page.locator(f'{tid("portrait-frame")}[data-mask=shown]').wait_for()
    return float(page.locator(tid("portrait-frame")).get_attribute("data-coverage"))


def upload_and_tap(page, touch: bool) -> None:
    page.set_input_files(tid("portrait-file"), files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": person_jpeg()}])
    frame = page.locator(tid("portrait-frame"))
    frame.wait_for(state="visible")
    assert (frame.get_attribute("data-width"), frame.get_attribute("data-height")) == tuple(str(v) for v in UPRIGHT)
    page.wait_for_function("() => document.querySelector('[data-testid=portrait-photo]').naturalWidth > 0")
    tap_photo(page, ON_SHIRT, touch)
    shirt = coverage_after(page, 1)
    assert 0.15 < shirt < 0.5  # the shirt, not the wall
    tap_photo(page, ON_HEAD, touch)
    both = coverage_after(page, 2)
    assert both > shirt + 0.02  # a second tap adds the head


def check_layout(page, size: dict) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]  # no sideways scrolling
    panel = page.locator(tid("portrait-panel"))
    assert panel.evaluate("(d) => d.scrollWidth <= d.clientWidth")
    for testid in ("portrait-pick", "portrait-clear", "portrait-mode-person", "portrait-mode-background", "portrait-make",
                   "portrait-download", "portrait-save", "dialog-close"):
        box = page.locator(f'{tid("portrait-panel")} {tid(testid)}').bounding_box()
        assert box["height"] >= MIN_TARGET_PX and box["width"] >= MIN_TARGET_PX, (testid, box)
    frame = page.locator(tid("portrait-frame")).bounding_box()
    ratio = frame["width"] / frame["height"]
    assert abs(ratio - UPRIGHT[0] / UPRIGHT[1]) < 0.03  # the photo keeps its proportions, so taps land where they look
    assert frame["x"] >= 0 and frame["x"] + frame["width"] <= size["width"]


@pytest.mark.parametrize("size,lang", [(PHONE, "ko"), (PHONE, "en"), (LAPTOP, "ko"), (LAPTOP, "en")],
                         ids=["390x844-ko", "390x844-en", "1280x800-ko", "1280x800-en"])
def test_a_grown_up_turns_a_photo_into_a_character(open_portrait_page, screenshot_dir, tmp_path, size, lang):
    touch = size == PHONE
    page = open_portrait_page(size, **({"has_touch": True, "is_mobile": True} if touch else {}))
    name = f"{size['width']}x{size['height']}-{lang}"
    open_panel(page, lang, f"portrait-{name}@example.com")
    words = {"ko": "컴퓨터 밖으로 나가지 않고", "en": "never leaves this computer"}[lang]
    assert words in page.locator(tid("portrait-privacy")).inner_text()
    upload_and_tap(page, touch)

    # "not the person": a right-click (or the toggle and a tap) takes the head away again; clear starts over
    if touch:
        page.click(tid("portrait-mode-background"))
        tap_photo(page, (ON_HEAD[0] + 0.02, ON_HEAD[1]), touch)
        page.click(tid("portrait-mode-person"))
    else:
        tap_photo(page, (ON_HEAD[0] + 0.02, ON_HEAD[1]), touch, right=True)
    assert page.locator(".pt-dot.bg").count() == 1
    assert coverage_after(page, 3) < 0.5
    page.wait_for_timeout(300)  # the overlay is drawn: let the screenshot show it
    page.screenshot(path=str(screenshot_dir / f"portrait-clicks-{name}.png"))
    page.click(tid("portrait-clear"))
    assert page.locator(".pt-dot").count() == 0 and page.locator(tid("portrait-make")).is_disabled()
    tap_photo(page, ON_SHIRT, touch)
    coverage_after(page, 1)

    page.click(tid("portrait-style-mono"))
    assert page.locator(tid("portrait-style-mono")).get_attribute("aria-checked") == "true"
    page.click(tid("portrait-make"))
    page.locator(f'{tid("portrait-result")}[data-state=picture]').wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=portrait-result-image]').naturalWidth > 0")
    check_layout(page, size)
    page.locator(tid("portrait-result")).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"portrait-result-{name}.png"))

    with page.expect_download() as info:
        page.click(tid("portrait-download"))
    assert info.value.suggested_filename == "icanvas-character-mono.png"
    path = tmp_path / "character.png"
    info.value.save_as(path)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == UPRIGHT

    page.click(tid("portrait-save"))
    page.locator(f'{tid("portrait-album")} [data-testid^=portrait-item-]').wait_for()
    assert page.locator(f'{tid("portrait-album")} [data-testid^=portrait-item-]').count() == 1
    page.locator(tid("portrait-album")).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"portrait-album-{name}.png"))

    page.click(f'{tid("portrait-panel")} {tid("dialog-close")}')  # closing lets the server forget the photo
    page.locator(tid("portrait-panel")).wait_for(state="detached")
    answer = page.evaluate("fetch('/api/portrait').then((r) => r.json())")
    for _ in range(50):  # the page forgets it right after closing
        if answer["photo"] is None:
            break
        page.wait_for_timeout(100)
        answer = page.evaluate("fetch('/api/portrait').then((r) => r.json())")
    assert answer["photo"] is None
    assert page.js_errors == []


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_page_on_a_tablet_held_upright(open_portrait_page, screenshot_dir, lang):
    page = open_portrait_page(PORTRAIT, has_touch=True)
    open_panel(page, lang, f"portrait-tablet-{lang}@example.com")
    page.screenshot(path=str(screenshot_dir / f"portrait-empty-768x1024-{lang}.png"))
    upload_and_tap(page, touch=True)
    page.click(tid("portrait-make"))
    page.locator(f'{tid("portrait-result")}[data-state=picture]').wait_for()
    check_layout(page, PORTRAIT)
    page.screenshot(path=str(screenshot_dir / f"portrait-clicks-768x1024-{lang}.png"))
    page.locator(tid("portrait-result")).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"portrait-result-768x1024-{lang}.png"))

    # the server process does not hold the photo (minutes passed, or another of several server processes
    # answers): the page sends it once more by itself, and the tap works
    page.evaluate("""() => fetch('/api/portrait/photo', {method: 'DELETE',
        headers: {'X-CSRF-Token': decodeURIComponent(document.cookie.match(/icanvas_csrf=([^;]*)/)[1])}})""")
    page.locator(tid("portrait-frame")).scroll_into_view_if_needed()
    with page.expect_request(lambda r: r.url.endswith("/api/portrait/photo") and r.method == "POST"):
        tap_photo(page, ON_HEAD, touch=True)
    assert coverage_after(page, 3) > 0.15
    assert page.locator(tid("portrait-frame")).is_visible() and page.locator(tid("portrait-empty")).is_hidden()
    assert page.js_errors == []


def test_a_child_profile_never_sees_the_photo_page(open_portrait_page):
    page = open_portrait_page(LAPTOP)
    assert page.evaluate("fetch('/api/portrait').then((r) => r.status)") == 401  # a guest
    register_parent(page, "portrait-family@example.com")
    add_child(page, "Ari")
    page.click(tid("let-child-draw"))
    enter_as(page, "Ari")
    assert page.evaluate("fetch('/api/portrait').then((r) => r.status)") == 403  # a child's profile
    page.click(tid("grownups-button"))
    page.locator(tid("parent-unlock-password")).wait_for()  # the grown-ups' corner asks for the password first
    assert page.locator(tid("parent-portrait")).count() == 0
    assert page.js_errors == []
