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
    photo_side: int  # the server reads photos of paper drawings shrunk to this long side, px: send no bigger


class Guess(BaseModel):
    label: str
    prob: float
    kind: str | None  # the installed kind the label names first, None when no model draws it
    kinds: list[str] = []  # every installed kind the label may be (a face may be a face or a character), best first
    preselect: bool = False  # the top guess, sure enough for the studio to pick its kind (the recognizer's fitted threshold)


class Guesses(BaseModel):
    guesses: list[Guess]


Point = Annotated[list[float], Field(min_length=2, max_length=2)]  # x, y in px of the photo as read
Corners = Annotated[list[Point], Field(min_length=4, max_length=4)]  # top-left, top-right, bottom-right, bottom-left


class PaperPage(BaseModel):
    """A photo of a paper drawing, read: where the page is and the drawing as the models will see it."""

    width: int  # the photo as the server read it (shrunk to at most 1024 px), px: corners are in these px
    height: int
    page: Literal["found", "placed", "whole", "missing"]  # found by the search, placed by hand, the photo is the
    # page (a scan), or no page found (the whole photo is used)
    corners: Corners  # the page's outline (the whole photo unless found or placed)
    drawing_corners: Corners  # where the drawing's own corners lie in the photo (just inside the page's edge)
    description: str  # what was read, e.g. "photographed page, found and straightened, with coloured strokes";
    # says why when no page was found
    drawing: str  # data: URL of a PNG, the drawing's size: black lines and coloured strokes on transparent paper
    drawing_width: int
    drawing_height: int


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


# ---------------------------------------------------------------- photo -> character (grown-ups)

MAX_CLICKS = 40  # most clicks one mask or stylize request may carry
MAX_PHOTO_SIDE = 100_000  # px; a click beyond any photo's side is refused by the schema


class Click(BaseModel):
    x: Annotated[int, Field(ge=0, le=MAX_PHOTO_SIDE)]  # px from the photo's left edge (the width PhotoOut gives)
    y: Annotated[int, Field(ge=0, le=MAX_PHOTO_SIDE)]  # px from the photo's top edge
    foreground: bool = True  # True: "this is the person"; False: "this is not the person"


class MaskAsk(BaseModel):
    points: Annotated[list[Click], Field(min_length=1, max_length=MAX_CLICKS)]


class StylizeAsk(MaskAsk):
    style: Annotated[str, StringConstraints(min_length=1, max_length=60)]


class PhotoOut(BaseModel):
    width: int  # px of the photo as the studio keeps it (upright, at most 1024 px long); clicks use these px
    height: int
    expires_in_s: int  # the photo is forgotten this long after its last use


class StyleOut(BaseModel):
    name: str
    label: Text


class PortraitStudio(BaseModel):
    available: bool  # false when the photo -> character stages are not installed
    styles: list[StyleOut]
    default_style: str | None
    photo: PhotoOut | None  # the photo this login has uploaded and not yet been forgotten
    max_upload_bytes: int
    photo_minutes: float  # a photo is forgotten this long after its last use, min


class PortraitOut(BaseModel):
    id: int
    style: str | None
    created_at: datetime
    picture_url: str
