"""Every kind and the main buttons are on screen, with no sideways scrolling, on a phone, a
tablet either way and a laptop, in Korean and in English."""

from __future__ import annotations

import pytest

from icanvas.serve.kinds import KIND_TABLE
from tests.browser.conftest import LANDSCAPE, PHONE, PORTRAIT
from tests.browser.helpers import tid

LAPTOP = {"width": 1280, "height": 800}

# controls whose box lies outside the page or outside a scrolling/clipping box around them
HIDDEN_JS = """() => {
  const W = document.documentElement.clientWidth;
  const hidden = [];
  for (const el of document.querySelectorAll('[data-testid^=kind-]:not([data-testid=kind-picker]), [data-testid=generate], [data-testid=download], [data-testid=save], [data-testid=live]')) {
    const r = el.getBoundingClientRect();
    let clipped = r.width === 0 || r.right > W + 1 || r.left < -1;
    for (let p = el.parentElement; p && !clipped; p = p.parentElement) {
      const pr = p.getBoundingClientRect();
      if (getComputedStyle(p).overflowX !== 'visible' && (r.right > pr.right + 1 || r.left < pr.left - 1)) clipped = true;
    }
    if (clipped) hidden.push(el.dataset.testid);
  }
  return hidden;
}"""


@pytest.fixture(scope="module")
def pipelines(tiny_pipe):
    """Every kind the studio knows (the tiny model draws them all as a cat): the longest kind row."""
    return {k: (tiny_pipe, "cat") for k in KIND_TABLE}


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("size", [PHONE, PORTRAIT, LANDSCAPE, LAPTOP], ids=lambda s: f"{s['width']}x{s['height']}")
def test_every_kind_and_button_is_on_screen(open_page, lang, size):
    page = open_page(size)
    page.click(tid(f"lang-{lang}"))
    kinds = page.locator(".kind-btn").count()
    assert kinds == len(KIND_TABLE)
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]  # no sideways scrolling
    assert page.evaluate(HIDDEN_JS) == []
    for button in ("download", "save"):  # each keeps its name on screen, not only its picture
        assert page.locator(f"{tid(button)} span").bounding_box()["width"] > 20, button
    assert page.js_errors == []


def test_korean_gets_the_studios_own_font_when_the_device_has_none(open_page, live_server):
    page = open_page(LANDSCAPE)
    assert page.locator("html").get_attribute("lang") == "ko"
    loaded = page.evaluate("""async () => {
        await document.fonts.ready;
        return [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'iCanvas Hangul' && f.status === 'loaded').length;
    }""")
    assert loaded >= 1  # the Korean words on the page pulled it in (or a local NanumGothic stood in)
    reply = page.request.get(live_server.url + "/static/fonts/icanvas-hangul-700.woff2")
    assert reply.status == 200 and reply.body()[:4] == b"wOF2"


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE, LAPTOP], ids=lambda s: f"{s['width']}x{s['height']}")
def test_a_message_never_covers_the_picture_frame(open_page, size):
    page = open_page(size)
    page.click(tid("generate"))  # nothing drawn: "Draw something first!"
    message = page.locator(tid("message"))
    message.wait_for(state="visible")
    m, r = message.bounding_box(), page.locator(tid("result")).bounding_box()
    assert m["y"] + m["height"] <= r["y"] + 1  # the message sits above the frame
    actions = page.locator(tid("save")).bounding_box()
    assert actions["y"] + actions["height"] <= size["height"]  # the buttons stay on screen
