"""Database tables of the studio (SQLAlchemy 2 ORM). Migrations live in ``serve/migrations``.

A parent account owns child profiles and the grown-up's own album of photo -> character
pictures (portraits); a child owns creations (images are files, rows hold their sha256 keys), a
star ledger, completed missions and badges. Deleting a parent or a child cascades in the
database; image files are removed afterwards by :mod:`icanvas.serve.storage`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

EMAIL_MAX = 254  # longest e-mail address accepted, characters
NICKNAME_MAX = 20  # longest child nickname, characters
KEY_LEN = 64  # sha256 hex digest of an image file
STYLE_MAX = 60  # longest style name a portrait records, characters


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite (which forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Parent(Base):
    __tablename__ = "parents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    children: Mapped[list[Child]] = relationship(back_populates="parent", passive_deletes=True, order_by="Child.id")


class Child(Base):
    __tablename__ = "children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parents.id", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX))
    avatar: Mapped[str] = mapped_column(String(40))
    pin_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Parent] = relationship(back_populates="children")


class LoginSession(Base):
    """A server-side login; the browser holds the token, the table only its sha256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parents.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=True)  # the login ends with the profile
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Creation(Base):
    __tablename__ = "creations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True)  # model kind chosen, None = none
    recognized: Mapped[str | None] = mapped_column(String(40), nullable=True)  # recognizer label, if sure enough
    recognized_prob: Mapped[float | None] = mapped_column(Float, nullable=True)
    colours: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    mission_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    favourite: Mapped[bool] = mapped_column(Boolean, default=False)
    drawing_key: Mapped[str] = mapped_column(String(KEY_LEN), index=True)
    picture_key: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the page's key for this save; a retry finds it

    __table_args__ = (
        Index("ix_creations_child_created", "child_id", "created_at"),
        Index("uq_creations_child_idempotency_key", "child_id", "idempotency_key", unique=True),  # NULLs never clash
    )


class Portrait(Base):
    """A picture in a grown-up's own album (photo -> character), apart from the children's creations."""

    __tablename__ = "portraits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parents.id", ondelete="CASCADE"))
    picture_key: Mapped[str] = mapped_column(String(KEY_LEN), index=True)
    style: Mapped[str | None] = mapped_column(String(STYLE_MAX), nullable=True)  # the style it was made in, None = not told
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_portraits_parent_created", "parent_id", "created_at"),
        Index("uq_portraits_parent_picture", "parent_id", "picture_key", unique=True),  # the same picture saved again is the same item
    )


class StarEvent(Base):
    """The star ledger: a child's stars are the sum of their events."""

    __tablename__ = "star_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    creation_id: Mapped[int | None] = mapped_column(ForeignKey("creations.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(String(60))
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BadgeEarned(Base):
    __tablename__ = "badges_earned"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    badge_id: Mapped[str] = mapped_column(String(60))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("child_id", "badge_id", name="uq_badges_earned_child_badge"),)


class MissionDone(Base):
    __tablename__ = "missions_done"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    mission_id: Mapped[str] = mapped_column(String(60))
    day: Mapped[date] = mapped_column(Date)
    creation_id: Mapped[int | None] = mapped_column(ForeignKey("creations.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (UniqueConstraint("child_id", "mission_id", "day", name="uq_missions_done_child_mission_day"),)


class LoginAttempt(Base):
    """One counted try (a login, unlock, picture PIN or sign-up), for rate limiting (old rows are pruned).

    The row is written before the secret is checked and removed again when it was right, so
    concurrent tries cannot all pass one check (see :func:`icanvas.serve.security.take_try`).
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # which limit counts it, e.g. "pair", "email", "pin"
    key: Mapped[str] = mapped_column(String(EMAIL_MAX))  # sha256 hex of what is counted (e-mail, address, child id ...)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_login_attempts_scope_key_at", "scope", "key", "at"),)


class Device(Base):
    """A browser that once logged in to a parent account; it holds the token, the table only its sha256.

    Login tries from a known device count against that device alone, so strangers' failures
    never lock a parent out of their own browsers (see :mod:`icanvas.serve.security`).
    """

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the device is forgotten a while after


class ServerSecret(Base):
    """Keys every server process shares (several processes may serve one database), by name."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # what the key is for, e.g. "csrf"
    value: Mapped[str] = mapped_column(String(128))  # hex of random bytes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
