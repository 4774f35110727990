"""Passwords, picture PINs, session, device and CSRF tokens, shared server keys and the rate limiter.

Passwords and PINs are hashed with scrypt (``scrypt$n$r$p$salt$hash``, hex) and compared in
constant time. Session and device tokens are random; the database stores only their sha256.
A CSRF token is an HMAC, under a key kept in the database (every server process shares it), of
the browser's session token, or of its guest cookie before a login: a cookie and header pair
made up elsewhere is refused, and a new login gets a new token.

Rate limits
-----------
Every counted try is a row of ``login_attempts`` (keys stored as sha256, so no e-mail address
or client address is kept in plain), written and committed *before* the secret is checked;
then the rows inside the window are counted and the try is refused (429, Retry-After) when
they are more than the limit allows. Each try that gets checked sees its own row and every
row committed before it, so of N concurrent tries at most ``tries`` are ever checked, on
SQLite and PostgreSQL alike. A refused try's row is deleted at once, a right secret's row too;
wrong tries stay counted until their window has passed.

Logins are counted so that guessing is stopped without handing strangers a lock-out button:

- A browser that once logged in to an account holds an HttpOnly *device cookie* for it. Its
  login tries to that account count against that device alone (``LOGIN_PER_DEVICE``, 5 in
  15 minutes), never against the e-mail or the address: whatever strangers do, the parent
  can still log in from their own browsers.
- Any other try counts against the pair (address, e-mail) (``LOGIN_PER_PAIR``, 5 in 15
  minutes), the e-mail from every address (``LOGIN_PER_EMAIL``, 20 in 15 minutes: guessing
  from many addresses stays slow) and the address for every e-mail (``LOGIN_PER_ADDRESS``,
  100 in 15 minutes: many parents may share one school's address, one of them mistyping
  does not stop the others). A right password forgives the pair's and the device's failures.
- Unlocking the parent area from a child profile counts per account (``UNLOCK_PER_PARENT``,
  5 in 15 minutes), picture PINs per child (``PIN_PER_CHILD``, 5 in 5 minutes): only a
  logged-in family can reach them. Sign-ups count per address (``SIGNUP_PER_ADDRESS``, 10 an
  hour) whatever their outcome, which is never told (see ``routes/auth.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from icanvas.errors import ConfigError
from icanvas.serve.problems import TooManyRequests
from icanvas.serve.tables import Device, LoginAttempt, ServerSecret, utcnow

SCRYPT_N = 2**14  # scrypt CPU/memory cost (16 MiB of memory per hash with r=8)
SCRYPT_R = 8  # scrypt block size
SCRYPT_P = 1  # scrypt parallelism
SALT_BYTES = 16  # random salt per hash, bytes
TOKEN_BYTES = 32  # randomness of session, device and guest tokens, bytes
SERVER_KEY_BYTES = 32  # randomness of a shared server key, bytes
PASSWORD_MIN = 8  # shortest password accepted, characters
PASSWORD_MAX = 256  # longest password accepted, characters (bounds hashing work)
CSRF_KEY = "csrf"  # name of the server key that CSRF tokens are made with
DEVICE_DAYS = 180  # a device that has not logged in for this long is forgotten, days
DEVICES_PER_PARENT = 20  # devices remembered per account; the longest unused is forgotten first

PIN_ICONS = ("apple", "ball", "car", "cat", "dog", "fish", "flower", "moon", "rocket", "star", "sun", "tree")  # picture-PIN icons
PIN_LENGTH = 3  # icons in a picture PIN


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2 + 2**20, dklen=32)


def hash_secret(secret: str) -> str:
    """scrypt hash of a password or PIN, with a fresh salt and its parameters."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored`` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


_DUMMY_HASH = hash_secret("not a real password")


def burn_time(secret: str) -> None:
    """Spend the time of one verification, so unknown e-mails take as long as wrong passwords."""
    verify_secret(secret, _DUMMY_HASH)


def pin_text(pin: list[str] | tuple[str, ...]) -> str:
    return "|".join(pin)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two non-empty tokens."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def csrf_token_of(key: bytes, binding: str) -> str:
    """The CSRF token of ``binding`` (a session or guest token, with its kind): HMAC-SHA256, base64url."""
    mac = hmac.new(key, b"csrf\n" + binding.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


# ============================================================================ shared rows


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # dialect -> INSERT with ON CONFLICT


def insert_unless_present(db: Session, table: type, values: dict, unique: Sequence[str]) -> int:
    """INSERT ``values`` unless a row with the same ``unique`` columns exists, in one atomic
    statement (ON CONFLICT DO NOTHING); returns how many rows were inserted (0 or 1)."""
    dialect = db.get_bind().dialect.name
    if dialect not in _INSERTS:
        raise ConfigError(f"The studio does not support {dialect} databases.", "Use SQLite or PostgreSQL.")
    return db.execute(_INSERTS[dialect](table).values(**values).on_conflict_do_nothing(index_elements=list(unique))).rowcount


def server_key(db: Session, name: str) -> bytes:
    """The shared server key ``name``, made once for every process by whoever asks first; commits."""
    row = db.get(ServerSecret, name)
    if row is None:
        insert_unless_present(db, ServerSecret, {"name": name, "value": secrets.token_hex(SERVER_KEY_BYTES),
                                                 "created_at": utcnow()}, ["name"])
        db.commit()
        row = db.get(ServerSecret, name, populate_existing=True)
    return bytes.fromhex(row.value)


# ============================================================================ devices


def known_device(db: Session, token: str | None, parent_id: int | None) -> Device | None:
    """The device of cookie ``token`` when it once logged in to account ``parent_id`` and is not forgotten."""
    if not token or parent_id is None:
        return None
    device = db.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    if device is None or device.parent_id != parent_id or device.last_login_at <= utcnow() - timedelta(days=DEVICE_DAYS):
        return None
    return device


def remember_device(db: Session, parent_id: int, device: Device | None) -> str | None:
    """After a right password: note the login of a known ``device`` (returns None), or make a new
    device for the account and return its cookie token; forgets old and surplus devices."""
    now = utcnow()
    if device is not None:
        device.last_login_at = now
        return None
    token = new_token()
    db.add(Device(token_hash=token_hash(token), parent_id=parent_id, created_at=now, last_login_at=now))
    db.flush()
    db.execute(delete(Device).where(Device.parent_id == parent_id, Device.last_login_at <= now - timedelta(days=DEVICE_DAYS)))
    keep = select(Device.id).where(Device.parent_id == parent_id).order_by(Device.last_login_at.desc(), Device.id.desc())
    db.execute(delete(Device).where(Device.parent_id == parent_id, Device.id.not_in(keep.limit(DEVICES_PER_PARENT).scalar_subquery())))
    return token


# ============================================================================ rate limiting


@dataclass(frozen=True)
class Limit:
    scope: str  # what is counted; stored with each try
    tries: int  # tries allowed inside the window
    window: timedelta  # how far back tries count


LOGIN_PER_DEVICE = Limit("device", 5, timedelta(minutes=15))  # failed logins from one known device to its account
LOGIN_PER_PAIR = Limit("pair", 5, timedelta(minutes=15))  # failed logins from one address to one e-mail
LOGIN_PER_EMAIL = Limit("email", 20, timedelta(minutes=15))  # failed logins to one e-mail from every address
LOGIN_PER_ADDRESS = Limit("ip", 100, timedelta(minutes=15))  # failed logins from one address to every e-mail
UNLOCK_PER_PARENT = Limit("unlock", 5, timedelta(minutes=15))  # wrong passwords typed in a child profile, per account
PIN_PER_CHILD = Limit("pin", 5, timedelta(minutes=5))  # wrong picture PINs per child profile
SIGNUP_PER_ADDRESS = Limit("signup", 10, timedelta(hours=1))  # sign-ups from one address, whatever came of them
PRUNE_AFTER = timedelta(days=1)  # tries older than this are deleted (longer than every window)
PRUNE_ONE_IN = 20  # prune on about one try in this many

Counted = Sequence[tuple[Limit, str]]  # (limit, key) pairs one try counts against


def _stored(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _window_rows(db: Session, limit: Limit, key: str, now: datetime) -> list[tuple[int, datetime]]:
    return list(db.execute(select(LoginAttempt.id, LoginAttempt.at).where(
        LoginAttempt.scope == limit.scope, LoginAttempt.key == _stored(key), LoginAttempt.at > now - limit.window)
        .order_by(LoginAttempt.at, LoginAttempt.id)).all())


@dataclass
class Try:
    """A try that passed its limits; its rows stay counted unless it :meth:`succeeded`."""

    ids: list[int]  # its login_attempts rows

    def succeeded(self, db: Session, forgive: Counted = ()) -> None:
        """The secret was right: uncount this try and every earlier failure of ``forgive`` (caller commits)."""
        db.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(self.ids)))
        for limit, key in forgive:
            clear_failures(db, limit, key)


def take_try(db: Session, counted: Counted, problem: str, hint: str) -> Try:
    """Count one try against every (limit, key) of ``counted``, atomically: the rows are committed
    first, then counted; raises 429 with Retry-After (and uncounts the try) when any limit is passed.

    Commits ``db``. Checking the secret comes after this, and only then."""
    now = utcnow()
    rows = [LoginAttempt(scope=limit.scope, key=_stored(key), at=now) for limit, key in counted]
    db.add_all(rows)
    db.flush()
    ids = [row.id for row in rows]
    if secrets.randbelow(PRUNE_ONE_IN) == 0:  # now and then, forget tries nobody will count again
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - PRUNE_AFTER))
    db.commit()
    over, wait = False, 0.0
    for limit, key in counted:
        others = [at for row_id, at in _window_rows(db, limit, key, now) if row_id not in ids]
        if len(others) >= limit.tries:  # with this try, more than the limit allows
            over = True  # the wait ends when enough of the others have left the window
            wait = max(wait, (others[len(others) - limit.tries] + limit.window - now).total_seconds())
    if over:
        db.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))
        db.commit()
        raise TooManyRequests(problem, hint, retry_after=max(1, math.ceil(wait)))
    return Try(ids)


def clear_failures(db: Session, limit: Limit, key: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.scope == limit.scope, LoginAttempt.key == _stored(key)))


def failures(db: Session, limit: Limit, key: str) -> int:
    """Tries of ``key`` that ``limit`` counts now."""
    now = utcnow()
    return db.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.scope == limit.scope, LoginAttempt.key == _stored(key), LoginAttempt.at > now - limit.window)) or 0
