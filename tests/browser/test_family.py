"""A family on the drawing page: a parent registers and makes a child profile, the child enters
with the picture PIN, draws, saves, finds the drawing in the album and earns stars for a mission;
the parent unlocks, sees the album, deletes an item and the profile."""

from __future__ import annotations

from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.serve.conftest import PASSWORD, PIN
from tests.browser.helpers import draw, draw_circle, shot, tid

EMAIL = "parent@example.com"


def register_parent(page, email: str = EMAIL) -> None:
    page.click(tid("grownups-button"))
    page.click(tid("parent-tab-register"))
    page.fill(tid("parent-email"), email)
    page.fill(tid("parent-password"), PASSWORD)
    page.click(tid("parent-submit"))
    page.locator(tid("children-list")).wait_for()


def add_child(page, nickname: str, avatar: str = "fox", pin: list[str] = PIN) -> None:
    page.fill(tid("child-nickname"), nickname)
    page.click(tid(f"avatar-{avatar}"))
    for icon in pin:
        page.click(tid(f"new-pin-{icon}"))
    page.click(tid("child-create"))
    page.locator(f"{tid('children-list')} >> text={nickname}").wait_for()


def enter_as(page, nickname: str, pin: list[str] = PIN) -> None:
    page.locator(f"{tid('who-panel')} .avatar-btn", has_text=nickname).click()
    for icon in pin:
        page.click(tid(f"pin-{icon}"))
    page.locator(tid("who-panel")).wait_for(state="detached")
    page.locator(tid("who-button"), has_text=nickname).wait_for()


def test_family_story(open_page, screenshot_dir):
    page = open_page(LANDSCAPE)

    # a guest who wants to save is asked for a grown-up first
    draw_circle(page)
    page.click(tid("save"))
    page.locator(tid("save-needs-profile")).wait_for()
    page.click(tid("save-go"))
    page.locator(tid("parent-panel")).wait_for()
    page.click(tid("dialog-close"))

    register_parent(page)
    add_child(page, "Ari")
    shot(page, screenshot_dir, "10-parent-1024x768")
    page.click(tid("let-child-draw"))

    # a wrong picture PIN is refused kindly, the right one lets the child in
    page.locator(f"{tid('who-panel')} .avatar-btn", has_text="Ari").click()
    shot(page, screenshot_dir, "11-pin-1024x768")
    for icon in ["moon", "moon", "moon"]:
        page.click(tid(f"pin-{icon}"))
    page.locator(".pin-status", has_text="다시").wait_for()
    page.click(tid("pin-back"))
    enter_as(page, "Ari")
    page.locator(tid("progress")).wait_for()
    assert page.locator(tid("stars-count")).inner_text() == "0"

    # choose a mission: use 3 colours
    page.click(tid("missions-button"))
    page.locator(tid("missions-panel")).wait_for()
    shot(page, screenshot_dir, "12-missions-1024x768")
    page.click(tid("mission-start-use-3-colours"))
    assert "3" in page.locator(tid("mission-title")).inner_text()

    # the drawing kept while entering is still there; add three crayon colours
    for colour, y in (("red", 0.2), ("green", 0.5), ("blue", 0.8)):
        page.click(tid(f"crayon-{colour}"))
        draw(page, [(0.2, y), (0.8, y)])
    page.click(tid("generate"))
    page.locator(tid("result-image")).wait_for(state="visible")
    page.wait_for_timeout(600)
    shot(page, screenshot_dir, "13-child-drawing-1024x768")
    page.click(tid("save"))
    rewards = page.locator(tid("rewards"))
    rewards.wait_for()
    page.wait_for_timeout(1500)  # stars pop in one after another
    shot(page, screenshot_dir, "14-rewards-1024x768")
    gained = int(page.locator(tid("rewards-stars")).get_attribute("data-stars"))
    assert gained >= 1 + 2 + 2  # saved + first cat + the mission's stars
    assert page.locator('[data-reason="mission:use-3-colours"]').count() == 1
    assert page.locator(f'{tid("rewards")} [data-reason="creation"]').inner_text().startswith("그림 저장")
    page.click(tid("rewards-keep"))
    assert page.locator(tid("stars-count")).inner_text() == str(gained)
    assert page.locator(tid("mission-active")).is_hidden()  # done missions end
    assert page.locator(".strip-badges .badge-icon").count() >= 1  # the first-drawing badge

    # saving the same drawing twice is not possible
    page.click(tid("save"))
    page.locator(tid("message"), has_text="벌써").wait_for()

    # the album has it, grouped by kind, and the heart makes it a favourite
    page.click(tid("album-button"))
    page.locator(tid("album-group-cat")).wait_for()
    card = page.locator("[data-testid^=creation-]")
    assert card.count() == 1
    heart = page.locator("[data-testid^=fav-]")
    assert heart.get_attribute("aria-pressed") == "false"
    heart.click()
    page.locator("[data-testid^=fav-][aria-pressed=true]").wait_for()
    page.click(tid("album-favourites"))
    page.locator("[data-testid^=creation-]").wait_for()
    shot(page, screenshot_dir, "15-album-1024x768")
    page.click(tid("dialog-close"))

    # the grown-up unlocks, sees the child's stars and album, deletes the item and then the profile
    page.click(tid("grownups-button"))
    page.fill(tid("parent-unlock-password"), PASSWORD)
    page.click(tid("parent-unlock-submit"))
    row = page.locator("[data-testid^=child-row-]")
    row.wait_for()
    assert f"별 {gained}개" in row.inner_text()
    page.click(tid("parent-albums"))
    page.locator("[data-testid^=creation-]").wait_for()
    assert page.locator(".album-owner", has_text="Ari").count() == 1
    page.locator("[data-testid^=delete-]").click()
    page.click(f"{tid('confirm-delete-creation')} {tid('confirm-ok')}")
    page.locator(tid("album-empty")).wait_for()
    page.click(f"{tid('album-panel')} {tid('dialog-close')}")

    page.click(tid("grownups-button"))
    page.locator("[data-testid^=child-delete-]").click()
    dialog = page.locator(tid("confirm-delete-child"))
    assert dialog.locator(tid("export-zip")).get_attribute("href").endswith("/export")
    shot(page, screenshot_dir, "16-delete-child-1024x768")
    dialog.locator(tid("confirm-ok")).click()
    page.locator(f"{tid('children-list')} .note").wait_for()
    assert page.locator("[data-testid^=child-row-]").count() == 0
    assert page.js_errors == []


def test_parent_screens_in_portrait(open_page, screenshot_dir):
    page = open_page(PORTRAIT)
    register_parent(page, "portrait@example.com")
    add_child(page, "Bo", avatar="panda", pin=["sun", "moon", "star"])
    shot(page, screenshot_dir, "20-parent-768x1024")
    page.click(tid("let-child-draw"))
    enter_as(page, "Bo", ["sun", "moon", "star"])
    page.click(tid("lang-en"))
    page.click(tid("missions-button"))
    page.locator(tid("missions-panel")).wait_for()
    assert page.locator(tid("missions-panel")).locator(".daily-tag").inner_text() == "Today's mission"
    shot(page, screenshot_dir, "21-missions-768x1024")

    # a timed mission: the clock waits for the first stroke, then counts down
    page.click(tid("mission-start-draw-car-60s"))
    timer = page.locator(tid("mission-timer"))
    assert timer.inner_text() == "The clock starts when you draw"
    draw_circle(page)
    page.wait_for_function("() => document.querySelector('[data-testid=mission-timer]').textContent.startsWith('Time left 0:')")
    page.click(tid("generate"))
    page.locator(tid("result-image")).wait_for(state="visible")
    page.wait_for_timeout(600)
    shot(page, screenshot_dir, "22-child-768x1024")
    page.click(tid("mission-stop"))
    assert page.locator(tid("mission-active")).is_hidden()
    assert page.js_errors == []


def test_login_with_a_wrong_password_is_refused(open_page):
    page = open_page(LANDSCAPE)
    page.click(tid("grownups-button"))
    page.fill(tid("parent-email"), "nobody@example.com")
    page.fill(tid("parent-password"), "not the password")
    page.click(tid("parent-submit"))
    page.locator(tid("form-error"), has_text="맞지 않아요").wait_for()


def test_sign_up_messages_say_each_thing_once_and_go_when_fixed(open_page):
    page = open_page(LANDSCAPE)
    page.click(tid("lang-en"))
    page.click(tid("grownups-button"))
    page.click(tid("parent-tab-register"))
    page.fill(tid("parent-email"), "short@example.com")
    page.fill(tid("parent-password"), "short")
    page.click(tid("parent-submit"))
    page.locator(tid("form-error"), has_text="too short").wait_for()
    assert page.get_by_text("at least 8 characters").count() == 1  # the rule is shown once, as the note
    page.fill(tid("parent-password"), PASSWORD)
    page.click(tid("parent-submit"))
    page.locator(tid("children-list")).wait_for()
    page.fill(tid("child-nickname"), "Mina")
    page.click(tid("child-create"))
    error = page.locator(f"{tid('new-child-form')} {tid('form-error')}")
    error.filter(has_text="Choose 3 secret pictures").wait_for()
    for icon in PIN:
        page.click(tid(f"new-pin-{icon}"))
    assert error.inner_text().strip() == ""  # chosen: the request to choose them is gone
    assert page.js_errors == []
