"""Badges of the web studio: what each one is called, its picture and when a child earns it.

A badge is registered with the :func:`badge` decorator on a small rule that looks only at
:class:`BadgeFacts`, plain counts that :func:`icanvas.serve.game.evaluate` works out after
each saved creation. A child earns each badge at most once. The frontend draws each badge's
picture from its ``icon`` id (an SVG icon of the same name).

To add a badge, write one decorated function below; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

RAINBOW_COLOURS = 5  # colours in one drawing that earn the rainbow badge
EXPLORER_KINDS = 5  # different things drawn (all time) that earn the explorer badge
MANY_DRAWINGS = 10  # saved creations that earn the ten-drawings badge
MISSION_MASTER = 10  # missions completed (all time) that earn the mission-master badge
DAILY_HERO = 5  # missions of the day completed (all time) that earn the daily-hero badge


@dataclass(frozen=True)
class Badge:
    """What the studio shows for a badge; ``title`` and ``description`` are keyed by language."""

    id: str
    icon: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadgeFacts:
    """Counts about one child, taken right after a new creation was saved (it is included)."""

    creations: int  # saved creations
    max_colours: int  # most colours used in one creation
    distinct_kinds: int  # different things drawn, all time
    streak_days: int  # consecutive days with a creation, ending today
    missions_done: int  # mission completions, all time
    timed_missions_done: int  # completions of missions with a time limit
    daily_missions_done: int  # completions of the mission of the day
    stars: int  # stars after this creation


BadgeRule = Callable[[BadgeFacts], bool]

BADGES: dict[str, Badge] = {}  # badge id -> Badge, in the order they were registered
BADGE_RULES: dict[str, BadgeRule] = {}  # badge id -> rule that says whether it is earned


def badge(badge_id: str, icon: str, title: dict[str, str], description: dict[str, str]) -> Callable[[BadgeRule], BadgeRule]:
    """Register ``rule`` as the way to earn badge ``badge_id``."""

    def register(rule: BadgeRule) -> BadgeRule:
        if badge_id in BADGES:
            raise ValueError(f"Badge {badge_id!r} is registered twice.")
        BADGES[badge_id] = Badge(badge_id, icon, dict(title), dict(description))
        BADGE_RULES[badge_id] = rule
        return rule

    return register


def earned_badges(facts: BadgeFacts, already: frozenset[str]) -> tuple[str, ...]:
    """Ids of the badges the facts earn that are not in ``already``, in registration order."""
    return tuple(bid for bid, rule in BADGE_RULES.items() if bid not in already and rule(facts))


@badge(
    "first-drawing",
    "badge-first-drawing",
    {"ko": "첫 그림", "en": "First drawing"},
    {"ko": "처음으로 그림을 그렸어요!", "en": "You made your very first drawing!"},
)
def _first_drawing(f: BadgeFacts) -> bool:
    return f.creations >= 1


@badge(
    "ten-drawings",
    "badge-ten-drawings",
    {"ko": "그림 10장", "en": "Ten drawings"},
    {"ko": "그림을 10장이나 그렸어요!", "en": "You made ten drawings!"},
)
def _ten_drawings(f: BadgeFacts) -> bool:
    return f.creations >= MANY_DRAWINGS


@badge(
    "rainbow",
    "badge-rainbow",
    {"ko": "무지개 화가", "en": "Rainbow painter"},
    {"ko": "그림 한 장에 색깔을 5가지나 썼어요!", "en": "You used five colours in one drawing!"},
)
def _rainbow(f: BadgeFacts) -> bool:
    return f.max_colours >= RAINBOW_COLOURS


@badge(
    "explorer",
    "badge-explorer",
    {"ko": "그림 탐험가", "en": "Explorer"},
    {"ko": "서로 다른 것을 5가지나 그렸어요!", "en": "You drew five different things!"},
)
def _explorer(f: BadgeFacts) -> bool:
    return f.distinct_kinds >= EXPLORER_KINDS


@badge(
    "streak-3",
    "badge-streak-3",
    {"ko": "3일 연속", "en": "Three days in a row"},
    {"ko": "3일 동안 하루도 빠짐없이 그렸어요!", "en": "You drew on three days in a row!"},
)
def _streak_3(f: BadgeFacts) -> bool:
    return f.streak_days >= 3


@badge(
    "streak-7",
    "badge-streak-7",
    {"ko": "7일 연속", "en": "Seven days in a row"},
    {"ko": "일주일 내내 매일 그렸어요!", "en": "You drew every day for a whole week!"},
)
def _streak_7(f: BadgeFacts) -> bool:
    return f.streak_days >= 7


@badge(
    "speedy",
    "badge-speedy",
    {"ko": "번개 손", "en": "Speedy"},
    {"ko": "시간 안에 그림을 완성했어요!", "en": "You finished a drawing before the time ran out!"},
)
def _speedy(f: BadgeFacts) -> bool:
    return f.timed_missions_done >= 1


@badge(
    "mission-master",
    "badge-mission-master",
    {"ko": "미션 달인", "en": "Mission master"},
    {"ko": "미션을 10번 해냈어요!", "en": "You completed ten missions!"},
)
def _mission_master(f: BadgeFacts) -> bool:
    return f.missions_done >= MISSION_MASTER


@badge(
    "daily-hero",
    "badge-daily-hero",
    {"ko": "오늘의 미션 영웅", "en": "Daily hero"},
    {"ko": "오늘의 미션을 5번 해냈어요!", "en": "You completed the mission of the day five times!"},
)
def _daily_hero(f: BadgeFacts) -> bool:
    return f.daily_missions_done >= DAILY_HERO
