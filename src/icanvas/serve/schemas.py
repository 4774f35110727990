"""Request and answer bodies of the studio API (pydantic); they make up the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from icanvas.serve.kinds import AVATARS
from icanvas.serve.security import PASSWORD_MAX, PASSWORD_MIN, PIN_ICONS, PIN_LENGTH
from icanvas.serve.tables import EMAIL_MAX, NICKNAME_MAX

Text = dict[str, str]  # language ("ko", "en") -> text
Avatar = Literal[AVATARS]  # type: ignore[valid-type]
PinIcon = Literal[PIN_ICONS]  # type: ignore[valid-type]
Pin = Annotated[list[PinIcon], Field(min_length=PIN_LENGTH, max_length=PIN_LENGTH)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=EMAIL_MAX,
                                         pattern=r"^[^@\s]+@[^@\s]+$")]
Nickname = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NICKNAME_MAX)]


class Problem(BaseModel):
    problem: str
    hint: str


class ProblemAnswer(BaseModel):
    detail: Problem


# ---------------------------------------------------------------- who is here


class ParentOut(BaseModel):
    id: int
    email: str


class ChildBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    nickname: str
    avatar: str


class Me(BaseModel):
    role: Literal["guest", "parent", "child"]
    parent: ParentOut | None
    child: ChildBrief | None
    csrf_token: str


class Register(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class SignedUp(BaseModel):
    """The answer to every sign-up, whether or not the e-mail had an account already."""

    message: str
    hint: str


class Login(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=EMAIL_MAX)]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class Unlock(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


# ---------------------------------------------------------------- children


class ChildOut(ChildBrief):
    stars: int
    level: int


class ChildCreate(BaseModel):
    nickname: Nickname
    avatar: Avatar
    pin: Pin


class ChildPatch(BaseModel):
    nickname: Nickname | None = None
    avatar: Avatar | None = None
    pin: Pin | None = None


class Enter(BaseModel):
    pin: Annotated[list[str], Field(min_length=1, max_length=10)]


# ---------------------------------------------------------------- studio


class KindOut(BaseModel):
    kind: str
    label: Text
    icon: str
    hints: bool
    model: str


class Studio(BaseModel):
    canvas_size: int
    pen_widths: dict[str, int]
    eraser_width: int
    crayon_width: int
    crayons: dict[str, str]
    kinds: list[KindOut]
    recognizer: bool
    surprise: bool
    surprise_kinds: list[str]  # what the surprise pictures can show when asked for a kind ([] = no choice)
    languages: list[str]
    default_language: str
    avatars: list[str]
    pin_icons: list[str]


class Guess(BaseModel):
    label: str
    prob: float
    kind: str | None


class Guesses(BaseModel):
    guesses: list[Guess]


# ---------------------------------------------------------------- album and game


class CreationOut(BaseModel):
    id: int
    child_id: int
    kind: str | None
    recognized: str | None
    favourite: bool
    created_at: datetime
    drawing_url: str
    picture_url: str | None


class Reason(BaseModel):
    key: str
    stars: int


class LevelOut(BaseModel):
    number: int
    into: int
    needed: int


class RewardsOut(BaseModel):
    stars: int  # stars this creation earned
    reasons: list[Reason]
    missions_done: list[str]
    badges: list[str]
    level: int  # level number after this creation
    level_up: bool
    total_stars: int  # the child's stars after this creation


class CreationSaved(BaseModel):
    creation: CreationOut
    rewards: RewardsOut


class Favourite(BaseModel):
    favourite: bool


class MissionOut(BaseModel):
    id: str
    title: Text
    icon: str
    rule: str
    params: dict[str, Any]
    stars: int
    daily: bool


class MissionToday(MissionOut):
    done_today: bool


class BadgeOut(BaseModel):
    id: str
    icon: str
    title: Text
    earned_at: datetime


class Progress(BaseModel):
    stars: int
    level: LevelOut
    streak_days: int
    badges: list[BadgeOut]
    daily: MissionOut
    missions: list[MissionToday]
