"""The "Surprise me!" button: a faint picture to trace over, shown under the drawing, that never
becomes part of the drawing (not on the canvas, not in what "Make it real!" sends, not in downloads)."""

from __future__ import annotations

import io

import numpy as np

from tests.browser.conftest import LANDSCAPE, PHONE, PORTRAIT
from tests.browser.helpers import draw, draw_circle, ink_fraction, shot, tid

PNG_START = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
BUSY_KO = "상상하는 중…"


def red_pixels(rgb: np.ndarray) -> int:
    """Pixels of an (H, W, 3+) uint8 image that are clearly red (the RedSampler's colour)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return int(((r > 150) & (g < 110) & (b < 110)).sum())


def decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))  # (H, W, 3) uint8


def png_in(body: bytes) -> np.ndarray:
    """The PNG file inside a multipart/form-data body."""
    start = body.index(PNG_START)
    return decode(body[start:body.index(PNG_END, start) + len(PNG_END)])


def blue_png(side: int = 32) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (side, side), (20, 60, 230)).save(buf, format="PNG")
    return buf.getvalue()


def canvas_red_pixels(page) -> int:
    """Red pixels in the drawing canvas's own bitmap (what the board holds, not what the screen shows)."""
    return page.evaluate(
        """() => {
            const c = document.querySelector('[data-testid=canvas]');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let red = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 110 && d[i + 2] < 110) red += 1;
            return red;
        }"""
    )


def screen_at(page, fx: float, fy: float) -> np.ndarray:
    """The colour the screen shows at a point of the canvas box, given as fractions (0..1)."""
    page.locator(tid("canvas")).scroll_into_view_if_needed()
    box = page.locator(tid("canvas")).bounding_box()
    clip = {"x": box["x"] + fx * box["width"] - 2, "y": box["y"] + fy * box["height"] - 2, "width": 4, "height": 4}
    return decode(page.screenshot(clip=clip)).reshape(-1, 3).mean(axis=0)


def show_trace(page) -> str:
    """Press the surprise button, wait until the picture is drawn under the canvas; its src."""
    page.click(tid("surprise"))
    page.locator(tid("trace-layer")).wait_for(state="visible")
    page.wait_for_function("() => { const t = document.querySelector('[data-testid=trace-layer]'); "
                           "return t.complete && t.naturalWidth > 0; }")
    page.wait_for_function("() => document.querySelector('[data-testid=surprise]').getAttribute('aria-busy') === 'false'")
    return page.locator(tid("trace-layer")).get_attribute("src")


def clear_drawing(page) -> None:
    page.click(tid("clear"))
    page.click(tid("confirm-ok"))
    page.locator(tid("confirm-clear")).wait_for(state="detached")


def small_buttons(page) -> list:
    """Visible buttons smaller than a finger (48 px) or without a name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('button')]
            .filter((b) => b.offsetParent !== null)
            .map((b) => {
                const r = b.getBoundingClientRect();
                return { id: b.dataset.testid || b.className, w: r.width, h: r.height,
                         name: (b.getAttribute('aria-label') || b.textContent || '').trim() };
            })
            .filter((b) => b.w < 48 || b.h < 48 || !b.name)"""
    )


def wait_until_held(page, held: list, tries: int = 500) -> None:
    """Let the browser run until a request reaches the route handler that holds it back."""
    for _ in range(tries):
        if held:
            return
        page.wait_for_timeout(20)
    raise AssertionError("the surprise request never came")


def test_no_button_without_a_sampler(open_page):
    page = open_page(LANDSCAPE)
    assert page.locator(tid("surprise")).count() == 0
    assert page.locator(tid("trace-layer")).is_hidden()


def test_trace_picture_is_never_part_of_the_drawing(open_surprise_page, surprise_server, screenshot_dir, tmp_path):
    page = open_surprise_page(LANDSCAPE)
    button = page.locator(tid("surprise"))
    assert button.is_visible()
    assert button.inner_text().strip() == "깜짝 그림!"
    assert small_buttons(page) == []
    assert page.locator(tid("trace-layer")).is_hidden()
    assert screen_at(page, 0.1, 0.1).min() > 245  # plain white paper before the surprise

    draw_circle(page)
    draw(page, [(0.2, 0.8), (0.8, 0.8)])
    show_trace(page)
    page.wait_for_timeout(700)  # let the fade finish
    layer = page.locator(tid("trace-layer"))
    opacity = float(layer.evaluate("(img) => getComputedStyle(img).opacity"))
    assert 0.1 < opacity < 0.5
    r, g, b = screen_at(page, 0.1, 0.1)
    assert r > 235 and g < 215 and b < 215  # the faint red picture shows through the paper
    assert screen_at(page, 0.5, 0.8).max() < 90  # ink stays dark on top of it
    assert "tracing" in page.locator(".paper").get_attribute("class")

    # The board's own bitmap holds only the strokes.
    assert canvas_red_pixels(page) == 0
    assert ink_fraction(page) > 0.005

    # What "Make it real!" sends: the strokes on white paper, no red.
    sent = []

    def fake_generate(route):
        sent.append(route.request.post_data_buffer)
        route.fulfill(status=200, content_type="image/png", body=blue_png())

    page.route("**/api/generate", fake_generate)
    page.click(tid("generate"))
    page.locator(tid("result-image")).wait_for(state="visible")
    assert len(sent) == 1
    drawing = png_in(sent[0])
    assert red_pixels(drawing) == 0
    assert (drawing.min(axis=2) < 100).mean() > 0.005  # the strokes are there

    # The downloaded pair: drawing and picture, no red anywhere.
    with page.expect_download() as info:
        page.click(tid("download"))
    path = tmp_path / "pair.png"
    info.value.save_as(path)
    pair = decode(path.read_bytes())
    assert red_pixels(pair) == 0
    assert (pair[..., 2] > 200).sum() > 0  # the (blue) picture made it in

    assert layer.is_visible()  # making the picture leaves the trace where it was
    shot(page, screenshot_dir, "surprise-1024x768")
    assert page.js_errors == []


def test_kind_new_picture_hide_and_clear(open_surprise_page, surprise_server):
    sampler = surprise_server.sampler
    page = open_surprise_page(LANDSCAPE)
    asked_for = []
    page.on("request", lambda req: "/api/surprise" in req.url and asked_for.append(req.url.split("/api")[1]))
    sampler.asked.clear()
    layer = page.locator(tid("trace-layer"))

    # The chosen kind (cat) is not one the sampler makes (GET /api/studio says so): the page asks for any picture.
    assert page.locator(tid("kind-cat")).get_attribute("aria-checked") == "true"
    first = show_trace(page)
    assert asked_for == ["/surprise"]
    assert sampler.asked == [None]
    assert page.locator(tid("message")).get_attribute("data-tone") != "error"

    # Pressing again gives a new picture.
    page.click(tid("surprise"))
    page.wait_for_function("(old) => document.querySelector('[data-testid=trace-layer]').getAttribute('src') !== old",
                           arg=first)
    assert asked_for[-1] == "/surprise"
    assert sampler.asked == [None, None]

    # A kind it can make is passed along.
    page.click(tid("kind-shoe"))
    show_trace(page)
    assert asked_for[-1] == "/surprise?kind=shoe"
    assert sampler.asked[-1] == "shoe"

    # Hide takes it away.
    page.click(tid("trace-hide"))
    assert layer.is_hidden()
    assert layer.get_attribute("src") is None
    assert page.locator(tid("trace-hide")).is_hidden()
    assert "tracing" not in page.locator(".paper").get_attribute("class")
    assert screen_at(page, 0.1, 0.1).min() > 245

    # Clearing the drawing takes it away too.
    show_trace(page)
    draw_circle(page)
    clear_drawing(page)
    assert layer.is_hidden()
    assert page.locator(tid("trace-hide")).is_hidden()
    assert page.js_errors == []


def test_busy_while_loading_and_late_answers_are_dropped(open_surprise_page):
    page = open_surprise_page(LANDSCAPE)
    page.click(tid("kind-shoe"))  # a kind the sampler makes: one request per press
    held = []
    page.route("**/api/surprise*", lambda route: held.append(route))
    button = page.locator(tid("surprise"))

    button.click()
    page.wait_for_function("() => document.querySelector('[data-testid=surprise]').getAttribute('aria-busy') === 'true'")
    assert button.inner_text().strip() == BUSY_KO
    wait_until_held(page, held)
    held.pop().continue_()
    page.locator(tid("trace-layer")).wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('[data-testid=surprise]').getAttribute('aria-busy') === 'false'")
    assert button.inner_text().strip() == "깜짝 그림!"

    # The child clears the drawing while a new picture is on its way: it must not show up afterwards.
    draw_circle(page)
    button.click()
    wait_until_held(page, held)
    clear_drawing(page)
    assert page.locator(tid("trace-layer")).is_hidden()
    held.pop().continue_()
    page.wait_for_function("() => document.querySelector('[data-testid=surprise]').getAttribute('aria-busy') === 'false'")
    page.wait_for_timeout(200)
    assert page.locator(tid("trace-layer")).is_hidden()
    assert page.js_errors == []


def test_problems_are_explained_kindly(open_surprise_page):
    page = open_surprise_page(LANDSCAPE)
    page.click(tid("lang-en"))
    page.route("**/api/surprise*", lambda route: route.fulfill(
        status=404, content_type="application/json",
        body='{"detail": {"problem": "No surprise pictures are installed.", "hint": "Install a sampler model."}}'))
    page.click(tid("surprise"))
    message = page.locator(tid("message"))
    message.wait_for(state="visible")
    assert message.get_attribute("data-tone") == "error"
    assert "Oops" in message.inner_text()
    assert "Install a sampler model." in message.locator(".detail").inner_text()
    assert page.locator(tid("trace-layer")).is_hidden()
    page.wait_for_function("() => document.querySelector('[data-testid=surprise]').getAttribute('aria-busy') === 'false'")
    assert page.locator(tid("surprise")).inner_text().strip() == "Surprise me!"
    assert page.js_errors == []


def test_tablet_upright_and_phone(open_surprise_page, screenshot_dir):
    for name, size in (("768x1024", PORTRAIT), ("390x844", PHONE)):
        page = open_surprise_page(size, reduced_motion="reduce" if size == PHONE else "no-preference")
        draw_circle(page, r=0.3)
        show_trace(page)
        faded = page.locator(tid("trace-layer")).evaluate("(img) => img.classList.contains('fade-in')")
        assert faded == (size != PHONE)  # no fade for people who asked for less motion
        assert small_buttons(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]  # no sideways scrolling
        page.wait_for_timeout(700)
        r, g, b = screen_at(page, 0.1, 0.1)
        assert r > 235 and g < 215  # the trace shows under the paper on every layout
        page.screenshot(path=str(screenshot_dir / f"surprise-{name}.png"), full_page=True)
        assert page.js_errors == []
