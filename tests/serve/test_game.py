"""Game rules: missions, stars, streaks, levels and badges (pure functions, no server)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icanvas.errors import ConfigError
from icanvas.serve import game
from icanvas.serve.badges import BADGE_RULES, BADGES
from icanvas.serve.game import (
    CreationFacts,
    History,
    Level,
    Mission,
    daily_mission,
    evaluate,
    level_for,
    load_missions,
    streak_days,
)

TODAY = date(2025, 3, 12)  # a Wednesday
UTC = timezone.utc


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def mission(mid: str, rule: str, params: dict, stars: int = 3, daily: bool = True) -> Mission:
    return Mission(mid, {"ko": mid, "en": mid}, f"mission-{mid}", rule, params, stars, daily)


# A filler daily mission no test creation completes, so it can be the mission of the day without bonus.
FILLER = mission("filler", "drawings_today", {"count": 99})


def done(m: Mission, new: CreationFacts, history: History = History(), today: date = TODAY, **kw) -> bool:
    """Whether ``new`` completes mission ``m`` (with a filler as the only daily mission)."""
    m = Mission(m.id, m.title, m.icon, m.rule, m.params, m.stars, False)
    return m.id in evaluate(history, new, [m, FILLER], child_id=1, today=today, **kw).missions_done


# ----------------------------------------------------------------------------- mission rules


def test_draw_kind_needs_recognition_for_kinds_the_recognizer_knows():
    cat = mission("draw-cat", "draw_kind", {"kind": "cat"})
    assert done(cat, CreationFacts(at(TODAY), kind="cat", recognized="cat"))
    assert done(cat, CreationFacts(at(TODAY), kind="shoe", recognized="cat"))
    assert not done(cat, CreationFacts(at(TODAY), kind="cat", recognized=None))
    assert not done(cat, CreationFacts(at(TODAY), kind="cat", recognized="fish"))
    # no recognizer running: the chosen kind counts
    assert done(cat, CreationFacts(at(TODAY), kind="cat"), known_labels=frozenset())


def test_draw_kind_trusts_the_chosen_kind_when_the_recognizer_cannot_name_it():
    shoe = mission("draw-shoe", "draw_kind", {"kind": "shoe"})
    assert done(shoe, CreationFacts(at(TODAY), kind="shoe"))
    assert done(shoe, CreationFacts(at(TODAY), kind="shoe", recognized="face"))
    assert not done(shoe, CreationFacts(at(TODAY), kind="handbag"))


@pytest.mark.parametrize(("seconds", "expected"), [(59.0, True), (60.0, True), (61.0, False), (-1.0, False), (0.0, False)])  # 0: not timed (a photo of paper)
def test_timed_mission_boundary(seconds, expected):
    car = mission("car-60", "draw_kind_timed", {"kind": "car", "seconds": 60})
    assert done(car, CreationFacts(at(TODAY), kind="car", recognized="car", seconds=seconds)) is expected


def test_timed_mission_needs_the_kind_too():
    car = mission("car-60", "draw_kind_timed", {"kind": "car", "seconds": 60})
    assert not done(car, CreationFacts(at(TODAY), kind="car", recognized="cat", seconds=10))


@pytest.mark.parametrize(("colours", "expected"), [(2, False), (3, True), (7, True)])
def test_use_colours_boundary(colours, expected):
    m = mission("colours", "use_colours", {"count": 3})
    assert done(m, CreationFacts(at(TODAY), colours=colours)) is expected


def _kinds_on(day: date, kinds: list[str]) -> tuple[CreationFacts, ...]:
    return tuple(CreationFacts(at(day), recognized=k) for k in kinds)


def test_distinct_kinds_week_counts_only_this_iso_week():
    week5 = mission("five", "distinct_kinds_week", {"count": 5})
    four = ["cat", "car", "sun", "tree"]
    sunday, monday = date(2025, 1, 5), date(2025, 1, 6)  # end of ISO week 1, start of week 2
    new = CreationFacts(at(monday), recognized="fish")
    assert not done(week5, new, History(creations=_kinds_on(sunday, four)), today=monday)
    assert done(week5, new, History(creations=_kinds_on(monday, four)), today=monday)
    # 2024-12-30 (Monday) already belongs to ISO week 1 of 2025
    new = CreationFacts(at(sunday), recognized="fish")
    assert done(week5, new, History(creations=_kinds_on(date(2024, 12, 30), four)), today=sunday)
    assert not done(week5, new, History(creations=_kinds_on(date(2024, 12, 29), four)), today=sunday)


def test_distinct_kinds_week_counts_distinct_kinds_not_drawings():
    week5 = mission("five", "distinct_kinds_week", {"count": 5})
    history = History(creations=_kinds_on(TODAY, ["cat", "cat", "cat", "sun", "sun"]))
    assert not done(week5, CreationFacts(at(TODAY), recognized="cat"), history)
    assert not done(week5, CreationFacts(at(TODAY), recognized="tree"), history)


def test_weekly_mission_completes_once_per_iso_week():
    week2 = mission("two", "distinct_kinds_week", {"count": 2})
    history = History(creations=_kinds_on(TODAY, ["cat"]), missions_done=(("two", TODAY - timedelta(days=1)),))
    assert not done(week2, CreationFacts(at(TODAY), recognized="sun"), history)
    next_monday = TODAY + timedelta(days=5)
    history = History(creations=_kinds_on(next_monday, ["cat"]), missions_done=(("two", TODAY),))
    assert done(week2, CreationFacts(at(next_monday), recognized="sun"), history, today=next_monday)


def test_drawings_today_counts_only_today():
    three = mission("three", "drawings_today", {"count": 3})
    yesterday = TODAY - timedelta(days=1)
    new = CreationFacts(at(TODAY, 18))
    two_today = History(creations=(CreationFacts(at(TODAY, 8)), CreationFacts(at(TODAY, 9))))
    one_today = History(creations=(CreationFacts(at(TODAY, 8)), CreationFacts(at(yesterday, 9))))
    assert done(three, new, two_today)
    assert not done(three, new, one_today)


def test_mission_completes_at_most_once_per_day():
    m = mission("colours", "use_colours", {"count": 1})
    new = CreationFacts(at(TODAY), colours=4)
    assert not done(m, new, History(missions_done=(("colours", TODAY),)))
    assert done(m, new, History(missions_done=(("colours", TODAY - timedelta(days=1)),)))
    assert done(m, new, History(missions_done=(("other", TODAY),)))


# ----------------------------------------------------------------------------- stars


def test_stars_for_creation_first_kind_and_mission():
    cat = mission("draw-cat", "draw_kind", {"kind": "cat"}, stars=3, daily=False)
    new = CreationFacts(at(TODAY), kind="cat", recognized="cat")
    r = evaluate(History(), new, [cat, FILLER], child_id=1, today=TODAY)
    assert r.reasons == (("creation", 1), ("first_kind:cat", 2), ("mission:draw-cat", 3))
    assert r.stars == 6 and r.missions_done == ("draw-cat",)
    again = History(creations=(CreationFacts(at(TODAY, 9), recognized="cat"),), missions_done=(("draw-cat", TODAY),))
    r = evaluate(again, new, [cat, FILLER], child_id=1, today=TODAY)
    assert r.reasons == (("creation", 1),)


def test_first_kind_of_an_unchecked_kind_and_not_of_an_unrecognized_one():
    r = evaluate(History(), CreationFacts(at(TODAY), kind="shoe"), [FILLER], 1, TODAY)
    assert ("first_kind:shoe", 2) in r.reasons
    r = evaluate(History(), CreationFacts(at(TODAY), kind="cat"), [FILLER], 1, TODAY)
    assert not any(key.startswith("first_kind:") for key, _ in r.reasons)


def test_daily_mission_pays_double():
    missions = load_missions()
    child = 7
    day = next(d for d in (TODAY + timedelta(days=i) for i in range(60)) if daily_mission(missions, child, d).id == "draw-cat")
    r = evaluate(History(), CreationFacts(at(day), kind="cat", recognized="cat"), missions, child, day)
    assert ("mission:draw-cat", 3) in r.reasons and ("daily_bonus:draw-cat", 3) in r.reasons
    other = day + timedelta(days=1)
    r = evaluate(History(), CreationFacts(at(other), kind="cat", recognized="cat"), missions, child, other)
    assert ("mission:draw-cat", 3) in r.reasons and not any(k.startswith("daily_bonus:") for k, _ in r.reasons)


def test_streak_bonus_on_first_creation_of_the_day_that_reaches_it():
    two_days = History(creations=(CreationFacts(at(TODAY - timedelta(days=2))), CreationFacts(at(TODAY - timedelta(days=1)))))
    r = evaluate(two_days, CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert ("streak:3", 5) in r.reasons
    already_today = History(creations=(*two_days.creations, CreationFacts(at(TODAY, 8))))
    r = evaluate(already_today, CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert not any(k.startswith("streak:") for k, _ in r.reasons)
    gap = History(creations=(CreationFacts(at(TODAY - timedelta(days=3))), CreationFacts(at(TODAY - timedelta(days=1)))))
    r = evaluate(gap, CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert not any(k.startswith("streak:") for k, _ in r.reasons)


def test_streak_bonus_lengths():
    assert [game.streak_bonus(n) for n in (1, 2, 3, 4, 7, 8, 14, 21)] == [0, 0, 5, 0, 10, 0, 10, 10]


def test_level_up_is_reported():
    r = evaluate(History(stars=9), CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert r.level == 2 and r.level_up
    r = evaluate(History(stars=12), CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert r.level == 2 and not r.level_up


creation_facts = st.builds(
    CreationFacts,
    at=st.integers(0, 20).map(lambda d: at(TODAY - timedelta(days=d), 10)),
    kind=st.sampled_from([None, "cat", "shoe", "car", "panda"]),
    recognized=st.sampled_from([None, "cat", "car", "sun", "fish", "bicycle"]),
    colours=st.integers(0, 10),
    seconds=st.floats(0, 300),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), creation_facts), min_size=1, max_size=25))
def test_replayed_history_never_pays_twice(steps):
    """Fold evaluate over a growing history: stars stay positive, badges and missions never repeat."""
    missions = load_missions()
    history, day = History(), TODAY
    badges: list[str] = []
    for gap, facts in steps:
        day += timedelta(days=gap)
        new = CreationFacts(at(day, 15), facts.kind, facts.recognized, facts.colours, facts.seconds)
        r = evaluate(history, new, missions, 3, day)
        assert r.stars == sum(s for _, s in r.reasons) >= 1
        assert all(s > 0 for _, s in r.reasons)
        badges += r.badges
        history = History(
            creations=(*history.creations, new),
            missions_done=(*history.missions_done, *((m, day) for m in r.missions_done)),
            stars=history.stars + r.stars,
            badges=history.badges | set(r.badges),
        )
    assert len(badges) == len(set(badges)) and "first-drawing" in badges
    assert len(history.missions_done) == len(set(history.missions_done))


# ----------------------------------------------------------------------------- daily mission


def test_daily_mission_is_deterministic_and_varies():
    missions = load_missions()
    days = [TODAY + timedelta(days=i) for i in range(60)]
    picks = [daily_mission(missions, 5, d).id for d in days]
    assert picks == [daily_mission(list(reversed(missions)), 5, d).id for d in days]
    daily_ids = {m.id for m in missions if m.daily}
    assert set(picks) == daily_ids  # every daily mission comes up, and only those
    assert all(a != b for a, b in zip(picks, picks[1:]))  # never the same two days in a row
    assert picks != [daily_mission(missions, 6, d).id for d in days]  # children get different orders


@pytest.mark.parametrize("count", [1, 2, 3])
def test_daily_mission_with_few_daily_missions(count):
    missions = [mission(f"m{i}", "use_colours", {"count": 1}) for i in range(count)]
    missions.append(mission("no", "use_colours", {"count": 1}, daily=False))
    picks = [daily_mission(missions, 1, TODAY + timedelta(days=i)).id for i in range(20)]
    assert "no" not in picks and len(set(picks)) == count
    if count > 1:
        assert all(a != b for a, b in zip(picks, picks[1:]))


def test_daily_mission_needs_a_daily_one():
    with pytest.raises(ConfigError, match="daily"):
        daily_mission([mission("m", "use_colours", {"count": 1}, daily=False)], 1, TODAY)


# ----------------------------------------------------------------------------- streaks


def _history_on(*offsets: int) -> History:
    return History(creations=tuple(CreationFacts(at(TODAY - timedelta(days=o))) for o in offsets))


def test_streak_counting_with_gaps():
    assert streak_days(History(), TODAY) == 0
    assert streak_days(_history_on(0), TODAY) == 1
    assert streak_days(_history_on(0, 0, 1, 2), TODAY) == 3
    assert streak_days(_history_on(1, 2, 4, 5, 6), TODAY) == 2  # ends yesterday, gap at 3
    assert streak_days(_history_on(2, 3, 4), TODAY) == 0  # nothing today or yesterday
    assert streak_days(_history_on(0, 2, 3), TODAY) == 1


def test_streak_uses_utc_days():
    seoul = timezone(timedelta(hours=9))
    late = datetime(2025, 3, 12, 1, 0, tzinfo=seoul)  # 2025-03-11 16:00 UTC
    assert game.day_of(late) == date(2025, 3, 11)
    assert game.day_of(datetime(2025, 3, 12, 23, 59)) == date(2025, 3, 12)  # naive = UTC
    assert streak_days(History(creations=(CreationFacts(late),)), date(2025, 3, 12)) == 1


# ----------------------------------------------------------------------------- levels


def test_level_thresholds():
    assert level_for(0) == Level(1, 0, 10)
    assert level_for(9) == Level(1, 9, 10)
    assert level_for(10) == Level(2, 0, 15)
    assert level_for(24) == Level(2, 14, 15)
    assert level_for(25) == Level(3, 0, 20)
    assert level_for(45).number == 4 and level_for(70).number == 5
    with pytest.raises(ValueError):
        level_for(-1)


@given(st.integers(0, 200_000), st.integers(0, 200_000))
def test_level_for_is_monotonic_and_consistent(a, b):
    lo, hi = sorted((a, b))
    assert level_for(lo).number <= level_for(hi).number
    lv = level_for(a)
    assert 0 <= lv.into < lv.needed
    assert lv.needed == game.level_stars(lv.number) and game.level_stars(lv.number + 1) > lv.needed


# ----------------------------------------------------------------------------- badges


def test_badges_have_pictures_and_titles():
    for required in ("first-drawing", "streak-3", "rainbow", "explorer", "ten-drawings", "mission-master", "speedy"):
        assert BADGES[required].icon == f"badge-{required}"
    for b in BADGES.values():
        assert b.icon.startswith("badge-") and b.title["ko"] and b.title["en"] and b.description["ko"]
    assert set(BADGES) == set(BADGE_RULES)


def test_badges_awarded_exactly_once():
    first = evaluate(History(), CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert "first-drawing" in first.badges
    earned = History(creations=(CreationFacts(at(TODAY, 8)),), badges=frozenset({"first-drawing"}))
    again = evaluate(earned, CreationFacts(at(TODAY)), [FILLER], 1, TODAY)
    assert "first-drawing" not in again.badges


def test_ten_drawings_on_the_tenth():
    nine = _history_on(*range(9))
    eight = _history_on(*range(8))
    assert "ten-drawings" in evaluate(nine, CreationFacts(at(TODAY)), [FILLER], 1, TODAY).badges
    assert "ten-drawings" not in evaluate(eight, CreationFacts(at(TODAY)), [FILLER], 1, TODAY).badges


def test_rainbow_explorer_streak_and_speedy():
    assert "rainbow" in evaluate(History(), CreationFacts(at(TODAY), colours=5), [FILLER], 1, TODAY).badges
    assert "rainbow" not in evaluate(History(), CreationFacts(at(TODAY), colours=4), [FILLER], 1, TODAY).badges
    four = History(creations=_kinds_on(TODAY - timedelta(days=30), ["cat", "car", "sun", "tree"]))
    assert "explorer" in evaluate(four, CreationFacts(at(TODAY), recognized="fish"), [FILLER], 1, TODAY).badges
    assert "explorer" not in evaluate(four, CreationFacts(at(TODAY), recognized="cat"), [FILLER], 1, TODAY).badges
    assert "streak-3" in evaluate(_history_on(1, 2), CreationFacts(at(TODAY)), [FILLER], 1, TODAY).badges
    assert "streak-3" not in evaluate(_history_on(2, 3), CreationFacts(at(TODAY)), [FILLER], 1, TODAY).badges
    car = mission("car-60", "draw_kind_timed", {"kind": "car", "seconds": 60}, daily=False)
    fast = CreationFacts(at(TODAY), recognized="car", seconds=30)
    assert "speedy" in evaluate(History(), fast, [car, FILLER], 1, TODAY).badges
    slow = CreationFacts(at(TODAY), recognized="car", seconds=90)
    assert "speedy" not in evaluate(History(), slow, [car, FILLER], 1, TODAY).badges


def test_mission_master_counts_past_completions():
    m = mission("colours", "use_colours", {"count": 1}, daily=False)
    past = tuple((f"old-{i}", TODAY - timedelta(days=i + 1)) for i in range(9))
    assert "mission-master" in evaluate(History(missions_done=past), CreationFacts(at(TODAY), colours=1), [m, FILLER], 1, TODAY).badges
    assert "mission-master" not in evaluate(History(missions_done=past), CreationFacts(at(TODAY)), [m, FILLER], 1, TODAY).badges


# ----------------------------------------------------------------------------- loading


def test_shipped_missions_load():
    missions = load_missions()
    by_id = {m.id: m for m in missions}
    assert by_id["draw-cat"].title == {"ko": "고양이를 그려 보세요", "en": "Draw a cat"}
    assert by_id["draw-car-60s"].params == {"kind": "car", "seconds": 60}
    assert by_id["draw-5-things-week"].rule == "distinct_kinds_week"
    kinds = {m.params.get("kind") for m in missions}
    assert {"shoe", "handbag", "panda", "face", "house", "sun", "tree", "fish", "flower", "apple", "cat", "car"} <= kinds
    assert {m.rule for m in missions} == set(game.RULES)
    assert any(m.daily for m in missions) and any(not m.daily for m in missions)


VALID = {"id": "draw-dog", "title": {"ko": "강아지를 그려 보세요", "en": "Draw a dog"}, "icon": "mission-dog",
         "rule": "draw_kind", "params": {"kind": "dog"}, "stars": 3, "daily": True}


def _write(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "missions.yaml"
    path.write_text(yaml.safe_dump({"missions": list(entries)}, allow_unicode=True), encoding="utf-8")
    return path


def _with(**changes) -> dict:
    entry = {**VALID, **changes}
    return {k: v for k, v in entry.items() if v is not _DROP}


_DROP = object()


def test_valid_file_loads(tmp_path):
    assert load_missions(_write(tmp_path, VALID))[0] == Mission(**VALID)


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (_with(rule="draw_dog"), "rule", "draw_dog"),
        (_with(stars=_DROP), "stars", "missing"),
        (_with(params=_DROP), "params", "missing"),
        (_with(stars=0), "stars", "1 to 20"),
        (_with(stars=21), "stars", "1 to 20"),
        (_with(stars=True), "stars", "whole number"),
        (_with(daily="yes"), "daily", "true or false"),
        (_with(title={"ko": "강아지"}), "title", "en"),
        (_with(icon=""), "icon", "icon id"),
        (_with(star=3), "star", "not a mission field"),
        (_with(params={}), "params.kind", "missing"),
        (_with(params={"kind": "dog", "colour": "red"}), "params.colour", "not a parameter"),
        (_with(rule="draw_kind_timed", params={"kind": "car", "seconds": -5}), "params.seconds", "-5"),
        (_with(rule="use_colours", params={"count": True}), "params.count", "whole number"),
        (_with(rule="use_colours", params={"count": 2.5}), "params.count", "whole number"),
        (_with(rule="drawings_today", params={"count": 0}), "params.count", "whole number"),
    ],
)
def test_validation_names_mission_and_field(tmp_path, entry, field, words):
    with pytest.raises(ConfigError) as err:
        load_missions(_write(tmp_path, entry))
    assert "'draw-dog'" in str(err.value) and f"'{field}'" in str(err.value) and words in str(err.value)
    assert err.value.hint


def test_validation_of_ids(tmp_path):
    with pytest.raises(ConfigError, match=r"'draw-dog'.*'id'.*earlier"):
        load_missions(_write(tmp_path, VALID, _with(stars=2)))
    with pytest.raises(ConfigError, match=r"'id'"):
        load_missions(_write(tmp_path, _with(id="Draw:Dog")))
    with pytest.raises(ConfigError, match=r"#2.*'id'.*missing"):
        load_missions(_write(tmp_path, VALID, _with(id=_DROP)))


def test_validation_of_the_file(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read"):
        load_missions(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("missions: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_missions(bad)
    bad.write_text("- id: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'missions:'"):
        load_missions(bad)
    with pytest.raises(ConfigError, match="daily: true"):
        load_missions(_write(tmp_path, _with(daily=False)))


def test_daily_hero_counts_past_missions_of_the_day():
    missions = [mission(f"m{i}", "use_colours", {"count": 1}) for i in range(4)]
    past_days = [TODAY - timedelta(days=i) for i in range(1, 5)]
    hero_past = tuple((daily_mission(missions, 2, d).id, d) for d in past_days)  # 4 missions of the day
    other_past = tuple((next(m.id for m in missions if m.id != daily_mission(missions, 2, d).id), d) for d in past_days)
    new = CreationFacts(at(TODAY), colours=1)  # completes every mission, the mission of the day included
    assert "daily-hero" in evaluate(History(missions_done=hero_past), new, missions, 2, TODAY).badges
    assert "daily-hero" not in evaluate(History(missions_done=other_past), new, missions, 2, TODAY).badges
