"""The drawing page as a guest: tools, language, undo and redo, the eraser, friendly messages."""

from __future__ import annotations

from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.browser.helpers import draw, draw_circle, ink_fraction, shot, tid


def test_page_loads_with_tools_and_kinds(open_page, screenshot_dir):
    page = open_page(LANDSCAPE)
    assert page.locator(tid("kind-cat")).is_visible()
    assert page.locator(tid("kind-shoe")).is_visible()
    assert page.locator(".crayon").count() == 10
    assert page.locator(tid("generate")).inner_text().strip() == "만들어 줘!"
    shot(page, screenshot_dir, "01-empty-1024x768")
    assert page.js_errors == []


def test_language_switch_is_remembered(open_page):
    page = open_page(LANDSCAPE)
    assert page.locator("html").get_attribute("lang") == "ko"
    page.click(tid("lang-en"))
    assert page.locator(tid("generate")).inner_text().strip() == "Make it real!"
    assert page.locator(tid("lang-en")).get_attribute("aria-pressed") == "true"
    assert page.locator(tid("undo")).get_attribute("aria-label") == "Undo"
    assert page.locator(tid("kind-cat")).inner_text().strip() == "Cat"
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(tid("save")).inner_text().strip() == "Save to album"
    page.click(tid("lang-ko"))
    assert page.locator(tid("save")).inner_text().strip() == "앨범에 저장"


def test_dictionaries_have_the_same_keys(open_page):
    page = open_page(LANDSCAPE)
    missing = page.evaluate(
        """async () => {
            const { ko, en } = await import('/static/js/strings.js');
            const a = Object.keys(ko), b = Object.keys(en);
            return [a.filter((k) => !(k in en)), b.filter((k) => !(k in ko))];
        }"""
    )
    assert missing == [[], []]


def test_requests_never_overlap_and_the_last_stroke_counts(open_page):
    """The live picture and the recognizer: one request at a time, one more after a busy one."""
    page = open_page(LANDSCAPE)
    runs, most = page.evaluate(
        """async () => {
            const { singleFlight } = await import('/static/js/util.js');
            let running = 0, most = 0, runs = 0;
            const runner = singleFlight(async () => {
                running += 1; runs += 1; most = Math.max(most, running);
                await new Promise((r) => setTimeout(r, 80));
                running -= 1;
            }, 10);
            runner.schedule(); runner.schedule(); runner.schedule();  // debounced into one run
            await new Promise((r) => setTimeout(r, 40));
            runner.schedule(); runner.schedule();                      // during the run: exactly one more
            await new Promise((r) => setTimeout(r, 40));
            await runner.now();                                        // waits for the queued run to finish
            return [runs, most];
        }"""
    )
    assert most == 1
    assert runs == 2


def test_undo_redo_and_clear(open_page):
    page = open_page(LANDSCAPE)
    assert page.locator(tid("undo")).is_disabled()
    draw(page, [(0.2, 0.2), (0.8, 0.2)])
    one = ink_fraction(page)
    draw(page, [(0.2, 0.6), (0.8, 0.6), (0.8, 0.9)])
    two = ink_fraction(page)
    assert two > one > 0
    page.click(tid("undo"))
    assert abs(ink_fraction(page) - one) < 1e-3
    page.click(tid("undo"))
    assert ink_fraction(page) == 0
    page.click(tid("redo"))
    assert abs(ink_fraction(page) - one) < 1e-3
    page.keyboard.press("Control+Shift+Z")
    assert abs(ink_fraction(page) - two) < 1e-3
    assert page.locator(tid("redo")).is_disabled()
    page.click(tid("clear"))  # a friendly question first, never window.confirm
    page.click(tid("confirm-cancel"))
    assert abs(ink_fraction(page) - two) < 1e-3
    page.click(tid("clear"))
    page.click(tid("confirm-ok"))
    page.locator(tid("confirm-clear")).wait_for(state="detached")
    assert ink_fraction(page) == 0


def test_blank_canvas_gets_a_friendly_message(open_page):
    page = open_page(LANDSCAPE)
    page.click(tid("generate"))
    message = page.locator(tid("message"))
    message.wait_for(state="visible")
    assert "먼저 그림을 그려 주세요" in message.inner_text()
    assert page.locator(tid("result-image")).is_hidden()


def test_server_problems_are_explained_kindly(open_page):
    page = open_page(LANDSCAPE)
    page.click(tid("lang-en"))
    page.route(
        "**/api/generate",
        lambda route: route.fulfill(status=503, headers={"Retry-After": "2"}, content_type="application/json",
                                    body='{"detail": {"problem": "The studio is busy.", "hint": "Try again in 2 seconds."}}'),
    )
    draw_circle(page)
    page.click(tid("generate"))
    message = page.locator(tid("message"))
    message.wait_for(state="visible")
    assert "Lots of friends are making pictures" in message.inner_text()
    assert "Try again in 2 seconds." in message.locator(".detail").inner_text()  # the server's words, smaller
    assert page.locator(tid("generate")).get_attribute("aria-busy") == "false"


def test_eraser_removes_ink(open_page):
    page = open_page(LANDSCAPE)
    draw(page, [(0.2, 0.5), (0.8, 0.5)])
    before = ink_fraction(page)
    page.click(tid("eraser"))
    draw(page, [(0.1, 0.5), (0.9, 0.5)])
    assert ink_fraction(page) < before * 0.2


def pen_stroke(page, pressure: float, y: float) -> None:
    """A stylus stroke across the canvas, sent as pointer events with the given pressure."""
    page.evaluate(
        """([pressure, y]) => {
            const c = document.querySelector('[data-testid=canvas]');
            const r = c.getBoundingClientRect();
            const at = (fx) => ({ pointerId: 7, pointerType: 'pen', pressure, isPrimary: true, button: 0, buttons: 1,
                                  bubbles: true, cancelable: true, clientX: r.left + fx * r.width, clientY: r.top + y * r.height });
            c.dispatchEvent(new PointerEvent('pointerdown', at(0.1)));
            for (let i = 2; i <= 9; i += 1) c.dispatchEvent(new PointerEvent('pointermove', at(i / 10)));
            c.dispatchEvent(new PointerEvent('pointerup', { ...at(0.9), buttons: 0 }));
        }""",
        [pressure, y],
    )


def test_pen_pressure_changes_the_width(open_page):
    page = open_page(LANDSCAPE)
    pen_stroke(page, 0.05, 0.3)
    light = ink_fraction(page)
    page.click(tid("undo"))
    pen_stroke(page, 1.0, 0.3)
    heavy = ink_fraction(page)
    assert heavy > light * 1.8  # width x 0.64 at a light touch, x 1.4 at full pressure


def test_canvas_never_scrolls_or_zooms_the_page(open_page):
    page = open_page(LANDSCAPE)
    canvas = page.locator(tid("canvas"))
    assert canvas.evaluate("(c) => getComputedStyle(c).touchAction") == "none"
    size = canvas.evaluate("(c) => [c.width, c.height, c.getBoundingClientRect().width]")
    assert size[0] == size[1] and abs(size[0] - size[2]) < 2  # backing store matches the CSS size at DPR 1
    page.set_viewport_size({"width": 900, "height": 700})
    page.wait_for_function("() => { const c = document.querySelector('[data-testid=canvas]'); "
                           "return Math.abs(c.width - c.getBoundingClientRect().width) < 2; }")


def test_sharp_on_high_density_screens(chromium, live_server):
    context = chromium.new_context(viewport=LANDSCAPE, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.wait_for_selector("body[data-ready=true]")
        width, css = page.locator(tid("canvas")).evaluate("(c) => [c.width, c.getBoundingClientRect().width]")
        assert abs(width - 2 * css) < 3
    finally:
        context.close()


def test_every_icon_the_page_knows_is_served(open_page, live_server):
    from pathlib import Path

    import icanvas.serve

    page = open_page(LANDSCAPE)
    names = page.evaluate(
        """async () => {
            const src = await (await fetch('/static/js/icons.js')).text();
            return [...src.matchAll(/^  "([a-z0-9-]+)",$/gm)].map((m) => m[1]);
        }"""
    )
    folder = Path(icanvas.serve.__file__).parent / "static" / "icons"
    assert sorted(names) == sorted(p.stem for p in folder.glob("*.svg"))
    studio = page.evaluate("fetch('/api/studio').then((r) => r.json())")
    for name in studio["avatars"]:
        assert f"avatar-{name}" in names
    for name in studio["pin_icons"]:
        assert f"pin-{name}" in names or name in names


def test_buttons_are_big_and_named(open_page):
    for size in (LANDSCAPE, PORTRAIT):
        page = open_page(size)
        problems = page.evaluate(
            """() => [...document.querySelectorAll('button, [role=radio], label.switch')]
                .filter((b) => b.offsetParent !== null)
                .map((b) => {
                    const r = b.getBoundingClientRect();
                    const name = (b.getAttribute('aria-label') || b.textContent || '').trim();
                    return { id: b.dataset.testid || b.className, w: r.width, h: r.height, name };
                })
                .filter((b) => b.w < 48 || b.h < 48 || !b.name)"""
        )
        assert problems == []
