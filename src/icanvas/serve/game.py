"""Game rules of the web studio: stars, missions, levels, streaks and badges.

Pure functions over plain data: the server loads a child's history from its database, calls
:func:`evaluate` for each newly saved creation and stores what it returns.

Missions are data (``missions.yaml`` next to this file): each names one of the rules in
:data:`RULES` with its parameters, so a new mission of an existing rule needs no code.
A mission completes at most once per day (rules of period ``"week"``: once per ISO week).

Stars for one saved creation, listed in :attr:`Rewards.reasons` as ``(key, stars)`` so a
child (or parent) can see where every star came from. Keys are stable strings that the
frontend translates; the part after the colon is data, shown as is or looked up:

- ``creation``: the creation was saved (:data:`STARS_CREATION`).
- ``first_kind:<kind>``: the first drawing of that kind ever, e.g. ``first_kind:cat``.
- ``mission:<mission id>``: a mission completed, its ``stars``, e.g. ``mission:draw-cat``.
- ``daily_bonus:<mission id>``: that mission was the mission of the day; it pays
  (:data:`DAILY_MULTIPLIER` - 1) x its stars again.
- ``streak:<days>``: the first creation of a day made the streak reach that many days
  (see :func:`streak_bonus`), e.g. ``streak:3``.

Levels grow: level 1 takes :data:`LEVEL_FIRST` stars, each next level :data:`LEVEL_STEP` more
(10, 25, 45, 70, 100, ... stars in all to reach levels 2, 3, 4, 5, 6, ...).

Days are UTC calendar dates. Naive datetimes (as some databases return them) are taken as UTC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from icanvas.errors import ConfigError
from icanvas.serve.badges import BADGES, Badge, BadgeFacts, earned_badges  # noqa: F401  (BADGES, Badge re-exported)


RECOGNIZED_MIN_PROB = 0.5  # recognizer probability (0..1) a label needs before the server passes it as `recognized`
RECOGNIZER_LABELS = frozenset(
    {"apple", "bicycle", "car", "cat", "diamond", "eye", "face", "fish", "flower", "house", "sun", "tree"}
)  # labels the bundled recognizer names; for other kinds the kind the child chose counts as drawn
STARS_CREATION = 1  # stars for every saved creation
STARS_FIRST_KIND = 2  # stars for the first drawing of a kind
DAILY_MULTIPLIER = 2  # the mission of the day pays its stars this many times
STREAK_BONUS = {3: 5, 7: 10}  # streak length (days) -> bonus stars on the day it is reached
STREAK_WEEKLY_BONUS = 10  # bonus stars on every further whole week of streak (14, 21, ... days)
LEVEL_FIRST = 10  # stars that level 1 takes
LEVEL_STEP = 5  # each level takes this many stars more than the one before
MAX_MISSION_STARS = 20  # largest `stars` a mission may pay
MISSIONS_FILE = Path(__file__).with_name("missions.yaml")  # the shipped missions

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # mission ids: lower-case letters, digits and dashes
_FIELDS = ("id", "title", "icon", "rule", "params", "stars", "daily")
_LANGUAGES = ("ko", "en")


@dataclass(frozen=True)
class Mission:
    id: str
    title: dict[str, str]  # language -> title, "ko" and "en" always present
    icon: str  # icon id the frontend draws
    rule: str  # a key of RULES
    params: dict[str, Any]  # the rule's parameters, checked by load_missions
    stars: int  # stars paid on completion
    daily: bool  # may be chosen as the mission of the day


@dataclass(frozen=True)
class CreationFacts:
    at: datetime  # when it was saved (UTC)
    kind: str | None = None  # model kind the child chose
    recognized: str | None = None  # recognizer label, only when its probability >= RECOGNIZED_MIN_PROB
    colours: int = 0  # number of different colours used
    seconds: float = 0.0  # time spent drawing, s
    mission_id: str | None = None  # the mission the child was working on, if any


@dataclass(frozen=True)
class History:
    creations: tuple[CreationFacts, ...] = ()  # earlier creations, any order
    missions_done: tuple[tuple[str, date], ...] = ()  # (mission id, day it was completed)
    stars: int = 0  # stars so far
    badges: frozenset[str] = frozenset()  # badge ids earned so far


@dataclass(frozen=True)
class Level:
    number: int  # 1, 2, ...
    into: int  # stars earned inside this level
    needed: int  # stars this level takes in all


@dataclass(frozen=True)
class Rewards:
    stars: int  # sum of the stars in reasons
    reasons: tuple[tuple[str, int], ...]  # (reason key, stars), see the module docstring
    missions_done: tuple[str, ...]  # ids of the missions completed by this creation
    badges: tuple[str, ...]  # ids of the badges earned by this creation
    level: int = 1  # level number after these stars
    level_up: bool = False  # the level number went up


# ----------------------------------------------------------------------------- helpers


def day_of(at: datetime) -> date:
    """UTC calendar date of a moment (a naive datetime is taken as UTC)."""
    return at.date() if at.tzinfo is None else at.astimezone(timezone.utc).date()


def _week(day: date) -> tuple[int, int]:
    return tuple(day.isocalendar())[:2]  # (ISO year, ISO week)


def drawn_kinds(facts: CreationFacts, known_labels: frozenset[str] = RECOGNIZER_LABELS) -> frozenset[str]:
    """What a creation counts as having drawn: the recognized label, and the chosen kind when
    the recognizer cannot name that kind (so it cannot check it)."""
    kinds = {facts.recognized} if facts.recognized else set()
    if facts.kind and facts.kind not in known_labels:
        kinds.add(facts.kind)
    return frozenset(kinds)


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Situation:
    """What a mission rule looks at: the new creation, the earlier ones and the day."""

    new: CreationFacts
    earlier: tuple[CreationFacts, ...]
    today: date
    known_labels: frozenset[str] = RECOGNIZER_LABELS

    def kinds(self, facts: CreationFacts) -> frozenset[str]:
        return drawn_kinds(facts, self.known_labels)


ParamCheck = Callable[[Any], str | None]  # returns what is wrong with a value, None when fine


@dataclass(frozen=True)
class Rule:
    name: str
    params: dict[str, ParamCheck]  # parameter name -> check
    period: str  # "day" or "week": a mission of this rule completes at most once per period
    done: Callable[[dict[str, Any], Situation], bool]


RULES: dict[str, Rule] = {}  # rule name -> Rule


def rule(name: str, period: str = "day", **params: ParamCheck) -> Callable:
    """Register a mission rule; ``params`` maps each parameter to its check."""

    def register(fn: Callable[[dict[str, Any], Situation], bool]) -> Callable:
        RULES[name] = Rule(name, params, period, fn)
        return fn

    return register


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty text"


def _count(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else "must be a whole number >= 1"


def _seconds(v: Any) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 3600
    return None if ok else "must be a number of seconds between 0 and 3600"


@rule("draw_kind", kind=_text)
def _draw_kind(p: dict[str, Any], s: Situation) -> bool:
    return p["kind"] in s.kinds(s.new)


@rule("draw_kind_timed", kind=_text, seconds=_seconds)
def _draw_kind_timed(p: dict[str, Any], s: Situation) -> bool:
    return p["kind"] in s.kinds(s.new) and 0 <= s.new.seconds <= p["seconds"]


@rule("use_colours", count=_count)
def _use_colours(p: dict[str, Any], s: Situation) -> bool:
    return s.new.colours >= p["count"]


@rule("distinct_kinds_week", period="week", count=_count)
def _distinct_kinds_week(p: dict[str, Any], s: Situation) -> bool:
    this_week = (s.kinds(c) for c in s.earlier if _week(day_of(c.at)) == _week(s.today))
    return len(s.kinds(s.new).union(*this_week)) >= p["count"]


@rule("drawings_today", count=_count)
def _drawings_today(p: dict[str, Any], s: Situation) -> bool:
    return 1 + sum(day_of(c.at) == s.today for c in s.earlier) >= p["count"]


def done_in_period(mission: Mission, missions_done: Iterable[tuple[str, date]], today: date) -> bool:
    """Whether ``mission`` was already completed today (this ISO week for weekly rules)."""
    weekly = mission.rule in RULES and RULES[mission.rule].period == "week"
    return any(mid == mission.id and (day == today or (weekly and _week(day) == _week(today))) for mid, day in missions_done)


# ----------------------------------------------------------------------------- loading


def _bad(where: str, key: str, msg: str, path: Path) -> ConfigError:
    return ConfigError(
        f"Mission {where} in {path}: field '{key}' {msg}.",
        f"Each mission needs {', '.join(_FIELDS)}; rules: {', '.join(sorted(RULES))}. Fix the file and restart.",
    )


def _mission(raw: Any, index: int, path: Path) -> Mission:
    where = f"#{index + 1}"
    if not isinstance(raw, dict):
        raise _bad(where, "-", "must be a mapping of fields", path)
    if _text(raw.get("id")) is None:
        where = repr(raw["id"])
    for key in _FIELDS:
        if key not in raw:
            raise _bad(where, key, "is missing", path)
    extra = sorted(set(raw) - set(_FIELDS))
    if extra:
        raise _bad(where, str(extra[0]), "is not a mission field", path)
    mid, title, rule_name, params, stars = raw["id"], raw["title"], raw["rule"], raw["params"], raw["stars"]
    for key, ok, msg in (
        ("id", isinstance(mid, str) and _ID.match(mid), "must use only lower-case letters, digits and dashes"),
        ("title", isinstance(title, dict) and not any(_text(title.get(lang)) for lang in _LANGUAGES), "must give a text for ko and en"),
        ("icon", not _text(raw["icon"]), "must be a non-empty icon id"),
        ("rule", isinstance(rule_name, str) and rule_name in RULES, f"{rule_name!r} is not a known rule"),
        ("params", isinstance(params, dict), "must be a mapping"),
        ("stars", _count(stars) is None and stars <= MAX_MISSION_STARS, f"must be a whole number 1 to {MAX_MISSION_STARS}"),
        ("daily", isinstance(raw["daily"], bool), f"must be true or false, got {raw['daily']!r}"),
    ):
        if not ok:
            raise _bad(where, key, msg, path)
    spec = RULES[rule_name].params
    for name, check in spec.items():
        if name not in params:
            raise _bad(where, f"params.{name}", f"is missing (rule {rule_name} needs {', '.join(spec)})", path)
        problem = check(params[name])
        if problem:
            raise _bad(where, f"params.{name}", f"{problem}, got {params[name]!r}", path)
    extra = sorted(set(params) - set(spec))
    if extra:
        raise _bad(where, f"params.{extra[0]}", f"is not a parameter of rule {rule_name}", path)
    return Mission(mid, {k: str(v) for k, v in title.items()}, raw["icon"], rule_name, dict(params), stars, raw["daily"])


def load_missions(path: Path | None = None) -> list[Mission]:
    """Missions from a YAML file (default: the shipped ``missions.yaml``), checked field by field.

    The file holds ``missions:``, a list of mappings with the fields of :class:`Mission`.
    Raises ConfigError naming the mission and field on any problem.
    """
    path = Path(path) if path is not None else MISSIONS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"Cannot read the missions file {path}: {e.strerror}.", "Check the path.") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"The missions file {path} is not valid YAML: {e}.", "Fix the YAML syntax.") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("missions"), list) or not raw["missions"]:
        raise ConfigError(f"The missions file {path} has no 'missions:' list.", "Start it with 'missions:' and one mapping per mission.")
    missions: list[Mission] = []
    for i, entry in enumerate(raw["missions"]):
        m = _mission(entry, i, path)
        if any(other.id == m.id for other in missions):
            raise _bad(repr(m.id), "id", "is used by an earlier mission too", path)
        missions.append(m)
    if not any(m.daily for m in missions):
        raise ConfigError(f"No mission in {path} has 'daily: true'.", "Mark at least one mission as daily (the mission of the day).")
    return missions


# ----------------------------------------------------------------------------- daily mission


def _rank(child_id: int, salt: int, mission_id: str) -> bytes:
    return hashlib.sha256(f"{child_id}:{salt}:{mission_id}".encode()).digest()


def daily_mission(missions: Sequence[Mission], child_id: int, day: date) -> Mission:
    """The mission of the day for one child: the same for the same (child, day), chosen among
    daily missions. Each run of N days (N = number of daily missions) shows every daily
    mission once in a per-child shuffled order, and two days in a row never repeat one."""
    daily = sorted({m.id: m for m in missions if m.daily}.values(), key=lambda m: m.id)
    if not daily:
        raise ConfigError("There is no daily mission to choose from.", "Mark at least one mission with 'daily: true'.")
    n = len(daily)
    if n <= 2:
        return daily[(day.toordinal() + int.from_bytes(_rank(child_id, 0, "")[:4], "big")) % n]
    cycle, pos = divmod(day.toordinal(), n)

    def order(c: int) -> list[Mission]:
        return sorted(daily, key=lambda m: _rank(child_id, c, m.id))

    this = order(cycle)
    if this[0].id == order(cycle - 1)[-1].id:  # the day before was the last of the previous run
        this[0], this[1] = this[1], this[0]
    return this[pos]


# ----------------------------------------------------------------------------- streaks, levels


def _streak(days: set[date], today: date) -> int:
    end = today if today in days else today - timedelta(days=1)
    length = 0
    while end - timedelta(days=length) in days:
        length += 1
    return length


def streak_days(history: History, today: date) -> int:
    """Consecutive days with at least one creation, ending today or yesterday (else 0)."""
    return _streak({day_of(c.at) for c in history.creations}, today)


def streak_bonus(length: int) -> int:
    """Bonus stars on the day a streak reaches ``length`` days."""
    if length in STREAK_BONUS:
        return STREAK_BONUS[length]
    return STREAK_WEEKLY_BONUS if length > 7 and length % 7 == 0 else 0


def level_stars(number: int) -> int:
    """Stars that level ``number`` takes (grows by LEVEL_STEP per level)."""
    return LEVEL_FIRST + LEVEL_STEP * (number - 1)


def level_for(stars: int) -> Level:
    """Level reached with ``stars`` stars in all; ``level_for(0)`` is level 1."""
    if stars < 0:
        raise ValueError(f"stars must be >= 0, got {stars}")
    number, start = 1, 0
    while stars >= start + level_stars(number):
        start += level_stars(number)
        number += 1
    return Level(number, stars - start, level_stars(number))


# ----------------------------------------------------------------------------- evaluation


def _badge_facts(
    situation: Situation, all_done: list[tuple[str, date]], missions: Sequence[Mission], child_id: int, stars: int
) -> BadgeFacts:
    everything = (*situation.earlier, situation.new)
    rule_of = {m.id: m.rule for m in missions}
    daily_of: dict[date, str] = {}  # day -> id of that day's mission of the day
    for _, day in all_done:
        if day not in daily_of:
            daily_of[day] = daily_mission(missions, child_id, day).id
    return BadgeFacts(
        creations=len(everything),
        max_colours=max(c.colours for c in everything),
        distinct_kinds=len(frozenset().union(*(situation.kinds(c) for c in everything))),
        streak_days=_streak({day_of(c.at) for c in everything} | {situation.today}, situation.today),
        missions_done=len(all_done),
        timed_missions_done=sum(rule_of.get(mid) == "draw_kind_timed" for mid, _ in all_done),
        daily_missions_done=sum(daily_of[day] == mid for mid, day in all_done),
        stars=stars,
    )


def evaluate(
    history: History,
    new: CreationFacts,
    missions: Sequence[Mission],
    child_id: int,
    today: date,
    known_labels: Iterable[str] = RECOGNIZER_LABELS,
) -> Rewards:
    """Stars, missions and badges a newly saved creation earns, given the child's history.

    ``known_labels``: the labels the running recognizer can name (pass an empty set when no
    recognizer is installed, so the chosen kind counts for every draw mission).
    """
    situation = Situation(new, tuple(history.creations), today, frozenset(known_labels))
    reasons: list[tuple[str, int]] = [("creation", STARS_CREATION)]

    seen = frozenset().union(*(situation.kinds(c) for c in situation.earlier))
    reasons += [(f"first_kind:{k}", STARS_FIRST_KIND) for k in sorted(situation.kinds(new) - seen)]

    daily = daily_mission(missions, child_id, today)
    done_now: list[Mission] = []
    for m in missions:
        if m.rule not in RULES:
            raise ConfigError(f"Mission {m.id!r} uses the unknown rule {m.rule!r}.", f"Use one of {', '.join(sorted(RULES))}.")
        if done_in_period(m, history.missions_done, today) or not RULES[m.rule].done(m.params, situation):
            continue
        done_now.append(m)
        reasons.append((f"mission:{m.id}", m.stars))
        if m.id == daily.id and DAILY_MULTIPLIER > 1:
            reasons.append((f"daily_bonus:{m.id}", m.stars * (DAILY_MULTIPLIER - 1)))

    earlier_days = {day_of(c.at) for c in situation.earlier}
    if today not in earlier_days:  # only the first creation of a day extends the streak
        length = _streak(earlier_days | {today}, today)
        if streak_bonus(length):
            reasons.append((f"streak:{length}", streak_bonus(length)))

    stars = sum(s for _, s in reasons)
    total = max(0, history.stars) + stars
    all_done = [*history.missions_done, *((m.id, today) for m in done_now)]
    facts = _badge_facts(situation, all_done, missions, child_id, total)
    before, after = level_for(max(0, history.stars)), level_for(total)
    return Rewards(
        stars=stars,
        reasons=tuple(reasons),
        missions_done=tuple(m.id for m in done_now),
        badges=earned_badges(facts, frozenset(history.badges)),
        level=after.number,
        level_up=after.number > before.number,
    )
