"""Game rules of the web studio: stars, missions, levels, streaks and badges.

Pure functions over plain data: for each newly saved creation the server reads a
:class:`Summary` of the child's past from its database (what the rules need, not the whole
album), calls :func:`evaluate` and stores what it returns. :func:`summarize` makes the same
summary from a whole :class:`History`, so both give the same rewards.

Missions (:mod:`icanvas.serve.missions`, re-exported here) are data, each naming one of the
rules in :data:`RULES`. A mission completes at most once per day (rules of period ``"week"``:
once per ISO week).

Stars for one saved creation, listed in :attr:`Rewards.reasons` as ``(key, stars)`` so a
child (or parent) can see where every star came from. Keys are stable strings that the
frontend translates; the part after the colon is data, shown as is or looked up:

- ``creation``: the creation was saved (:data:`STARS_CREATION`).
- ``first_kind:<kind>``: the first drawing of that kind ever, e.g. ``first_kind:cat``.
- ``mission:<mission id>``: a mission completed, its ``stars``, e.g. ``mission:draw-cat``.
- ``daily_bonus:<mission id>``: that mission was the mission of the day; it pays
  (:data:`DAILY_MULTIPLIER` - 1) x its stars again. The server counts a child's completions
  of the mission of the day by these entries of the star ledger.
- ``streak:<days>``: the first creation of a day made the streak reach that many days
  (see :func:`streak_bonus`), e.g. ``streak:3``.

Levels grow: level 1 takes :data:`LEVEL_FIRST` stars, each next level :data:`LEVEL_STEP` more
(10, 25, 45, 70, 100, ... stars in all to reach levels 2, 3, 4, 5, 6, ...).

Days are UTC calendar dates. Naive datetimes (as some databases return them) are taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from icanvas.errors import ConfigError
from icanvas.serve.badges import BADGES, Badge, BadgeFacts, earned_badges  # noqa: F401  (BADGES, Badge re-exported)
from icanvas.serve.missions import (  # noqa: F401  (the mission catalogue is re-exported)
    MAX_MISSION_STARS, MISSIONS_FILE, RULES, Mission, Rule, daily_mission, load_missions, rule,
)

RECOGNIZED_MIN_PROB = 0.5  # recognizer probability (0..1) a label needs before the server passes it as `recognized`
RECOGNIZER_LABELS = frozenset(
    {"apple", "bicycle", "car", "cat", "diamond", "eye", "face", "fish", "flower", "house", "sun", "tree"}
)  # labels the bundled recognizer names; for other kinds the kind the child chose counts as drawn
STARS_CREATION = 1  # stars for every saved creation
STARS_FIRST_KIND = 2  # stars for the first drawing of a kind
DAILY_MULTIPLIER = 2  # the mission of the day pays its stars this many times; > 1, so it shows in the ledger
STREAK_BONUS = {3: 5, 7: 10}  # streak length (days) -> bonus stars on the day it is reached
STREAK_WEEKLY_BONUS = 10  # bonus stars on every further whole week of streak (14, 21, ... days)
LEVEL_FIRST = 10  # stars that level 1 takes
LEVEL_STEP = 5  # each level takes this many stars more than the one before


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
    """A child's whole past; :func:`summarize` reduces it to the :class:`Summary` the rules read."""

    creations: tuple[CreationFacts, ...] = ()  # earlier creations, any order
    missions_done: tuple[tuple[str, date], ...] = ()  # (mission id, day it was completed)
    stars: int = 0  # stars so far
    badges: frozenset[str] = frozenset()  # badge ids earned so far


@dataclass(frozen=True)
class Drawn:
    """The kinds chosen and the labels recognized in some creations; see :func:`drawn_kinds`."""

    kinds: frozenset[str] = frozenset()  # kinds the child chose
    labels: frozenset[str] = frozenset()  # labels the recognizer gave

    @staticmethod
    def of(creations: Iterable[CreationFacts]) -> Drawn:
        creations = list(creations)
        return Drawn(frozenset(c.kind for c in creations if c.kind), frozenset(c.recognized for c in creations if c.recognized))

    def things(self, known_labels: frozenset[str]) -> frozenset[str]:
        """What these creations count as having drawn, together."""
        return self.labels | (self.kinds - known_labels)


@dataclass(frozen=True)
class Summary:
    """What the rules need of a child's past, taken on the day ``today``: counts, distinct values,
    this week's completions and the current streak's days, so its size does not grow with the
    album. The server reads one from its database for each save (``album.history_of``)."""

    today: date  # the day the facts were taken on
    creations: int = 0  # earlier creations
    max_colours: int | None = None  # most colours in one earlier creation, None without any
    drawn: Drawn = Drawn()  # the kinds and labels of the earlier creations
    drawn_this_week: Drawn = Drawn()  # the same for those in today's ISO week
    drawings_today: int = 0  # earlier creations on today
    days: frozenset[date] = frozenset()  # days with a creation: at least the run ending today or yesterday, and the gap before it
    missions_done: frozenset[tuple[str, date]] = frozenset()  # (mission id, day) of the completions in today's ISO week
    completions: tuple[tuple[str, int], ...] = ()  # (mission id, completions all time), one per mission id
    daily_completions: int = 0  # completions of the mission of the day, all time
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


def week_start(day: date) -> date:
    """The Monday that starts the ISO week of ``day``."""
    return day - timedelta(days=day.weekday())


def drawn_kinds(facts: CreationFacts, known_labels: frozenset[str] = RECOGNIZER_LABELS) -> frozenset[str]:
    """What a creation counts as having drawn: the recognized label, and the chosen kind when
    the recognizer cannot name that kind (so it cannot check it)."""
    kinds = {facts.recognized} if facts.recognized else set()
    if facts.kind and facts.kind not in known_labels:
        kinds.add(facts.kind)
    return frozenset(kinds)


# ----------------------------------------------------------------------------- what rules read


@dataclass(frozen=True)
class Situation:
    """What a mission rule looks at: the new creation, the summary of the earlier ones and the day."""

    new: CreationFacts
    past: Summary
    today: date
    known_labels: frozenset[str] = RECOGNIZER_LABELS

    def kinds(self, facts: CreationFacts) -> frozenset[str]:
        return drawn_kinds(facts, self.known_labels)

    def things(self, drawn: Drawn) -> frozenset[str]:
        return drawn.things(self.known_labels)


def done_in_period(mission: Mission, missions_done: Iterable[tuple[str, date]], today: date) -> bool:
    """Whether ``mission`` was already completed today (this ISO week for weekly rules)."""
    weekly = mission.rule in RULES and RULES[mission.rule].period == "week"
    return any(mid == mission.id and (day == today or (weekly and _week(day) == _week(today))) for mid, day in missions_done)


# ----------------------------------------------------------------------------- streaks, levels


def streak_length(days: set[date], today: date) -> int:
    """Length of the run of consecutive ``days`` that ends today, or yesterday when today is not among them."""
    end = today if today in days else today - timedelta(days=1)
    length = 0
    while end - timedelta(days=length) in days:
        length += 1
    return length


def streak_days(history: History | Summary, today: date) -> int:
    """Consecutive days with at least one creation, ending today or yesterday (else 0)."""
    days = history.days if isinstance(history, Summary) else {day_of(c.at) for c in history.creations}
    return streak_length(set(days), today)


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


def summarize(history: History, today: date, missions: Sequence[Mission], child_id: int) -> Summary:
    """The :class:`Summary` of a whole history on ``today``; ``missions`` and ``child_id`` say
    which past completions were of the mission of the day."""
    week = _week(today)
    daily_of: dict[date, str] = {}  # day -> id of that day's mission of the day
    for _, day in history.missions_done:
        if day not in daily_of:
            daily_of[day] = daily_mission(missions, child_id, day).id
    completions: dict[str, int] = {}
    for mid, _ in history.missions_done:
        completions[mid] = completions.get(mid, 0) + 1
    creations = history.creations
    return Summary(
        today=today,
        creations=len(creations),
        max_colours=max((c.colours for c in creations), default=None),
        drawn=Drawn.of(creations),
        drawn_this_week=Drawn.of(c for c in creations if _week(day_of(c.at)) == week),
        drawings_today=sum(day_of(c.at) == today for c in creations),
        days=frozenset(day_of(c.at) for c in creations),
        missions_done=frozenset((mid, day) for mid, day in history.missions_done if _week(day) == week),
        completions=tuple(sorted(completions.items())),
        daily_completions=sum(daily_of[day] == mid for mid, day in history.missions_done),
        stars=history.stars,
        badges=frozenset(history.badges),
    )


def _badge_facts(s: Situation, done_now: list[Mission], daily: Mission, missions: Sequence[Mission], stars: int) -> BadgeFacts:
    past, new = s.past, s.new
    rule_of = {m.id: m.rule for m in missions}
    now = [m.id for m in done_now]
    return BadgeFacts(
        creations=past.creations + 1,
        max_colours=new.colours if past.max_colours is None else max(past.max_colours, new.colours),
        distinct_kinds=len(s.things(past.drawn) | s.kinds(new)),
        streak_days=streak_length(set(past.days) | {day_of(new.at), s.today}, s.today),
        missions_done=sum(n for _, n in past.completions) + len(now),
        timed_missions_done=sum(n for mid, n in (*past.completions, *((mid, 1) for mid in now))
                                if rule_of.get(mid) == "draw_kind_timed"),
        daily_missions_done=past.daily_completions + now.count(daily.id),
        stars=stars,
    )


def evaluate(
    history: History | Summary,
    new: CreationFacts,
    missions: Sequence[Mission],
    child_id: int,
    today: date,
    known_labels: Iterable[str] = RECOGNIZER_LABELS,
) -> Rewards:
    """Stars, missions and badges a newly saved creation earns, given the child's history
    (whole, or its :class:`Summary` taken on ``today``).

    ``known_labels``: the labels the running recognizer can name (pass an empty set when no
    recognizer is installed, so the chosen kind counts for every draw mission).
    """
    past = history if isinstance(history, Summary) else summarize(history, today, missions, child_id)
    if past.today != today:
        raise ValueError(f"the summary was taken on {past.today}, not on {today}")
    situation = Situation(new, past, today, frozenset(known_labels))
    reasons: list[tuple[str, int]] = [("creation", STARS_CREATION)]

    seen = situation.things(past.drawn)
    reasons += [(f"first_kind:{k}", STARS_FIRST_KIND) for k in sorted(situation.kinds(new) - seen)]

    daily = daily_mission(missions, child_id, today)
    done_now: list[Mission] = []
    for m in missions:
        if m.rule not in RULES:
            raise ConfigError(f"Mission {m.id!r} uses the unknown rule {m.rule!r}.", f"Use one of {', '.join(sorted(RULES))}.")
        if done_in_period(m, past.missions_done, today) or not RULES[m.rule].done(m.params, situation):
            continue
        done_now.append(m)
        reasons.append((f"mission:{m.id}", m.stars))
        if m.id == daily.id and DAILY_MULTIPLIER > 1:
            reasons.append((f"daily_bonus:{m.id}", m.stars * (DAILY_MULTIPLIER - 1)))

    if past.drawings_today == 0:  # only the first creation of a day extends the streak
        length = streak_length(set(past.days) | {today}, today)
        if streak_bonus(length):
            reasons.append((f"streak:{length}", streak_bonus(length)))

    stars = sum(s for _, s in reasons)
    total = max(0, past.stars) + stars
    before, after = level_for(max(0, past.stars)), level_for(total)
    return Rewards(
        stars=stars,
        reasons=tuple(reasons),
        missions_done=tuple(m.id for m in done_now),
        badges=earned_badges(_badge_facts(situation, done_now, daily, missions, total), frozenset(past.badges)),
        level=after.number,
        level_up=after.number > before.number,
    )
