"""The two families the abuse probe works with: parents, children, the grown-ups' own pictures,
viewers, and scanning answers for another family's data (used by benchmarks/abuse.py)."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field

import httpx

import studio_probe as sp

# Relations of a viewer to the owner of what an id names.
OWN = "own"  # a child's own profile or creation
SIBLING = "sibling"  # a child and another child of the same parent
OWN_CHILD = "own child"  # a parent and one of their children
OTHER = "other family"
NONE = "nonexistent"
GUEST = "guest"
RELATIONS = (OWN, SIBLING, OWN_CHILD, OTHER, NONE, GUEST)


_DRAWING: list[bytes] = []


def drawing() -> bytes:
    if not _DRAWING:
        import numpy as np

        _DRAWING.append(sp.make_drawings(np.random.default_rng(3), 1)[0])
    return _DRAWING[0]


# ================================================================ the two families


@dataclass
class Kid:
    name: str  # "A1"
    family: str  # "A"
    id: int
    pin: list[str]
    nickname: str
    maker: sp.Browser  # this child's own session, for setting things up (never a viewer under test)
    creations: list[int] = field(default_factory=list)


@dataclass
class Viewer:
    name: str  # "parent A", "child A1", "guest"
    family: str | None
    kid: Kid | None
    browser: sp.Browser


@dataclass
class World:
    url: str
    info: dict
    spec: dict
    emails: dict[str, str] = field(default_factory=dict)  # family -> e-mail
    owners: dict[str, sp.Browser] = field(default_factory=dict)  # family -> a parent session for setup and clean-up
    kids: dict[str, Kid] = field(default_factory=dict)
    viewers: list[Viewer] = field(default_factory=list)
    nicknames: dict[str, str] = field(default_factory=dict)  # every nickname made -> its family
    portraits: dict[str, list[int]] = field(default_factory=dict)  # family -> ids of its grown-up's own pictures
    missing_child: int = 0
    missing_creation: int = 0
    missing_portrait: int = 0

    def close(self) -> None:
        for b in [*self.owners.values(), *(k.maker for k in self.kids.values()), *(v.browser for v in self.viewers)]:
            b.close()


def nickname(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(3)}"  # unique, so finding it in a body means that child's data


def save_creation(kid: Kid, picture: bool = True) -> int:
    files = {"drawing": ("drawing.png", drawing(), "image/png")}
    if picture:
        files["picture"] = ("picture.png", drawing(), "image/png")
    r = kid.maker.post("/api/creations", files=files, data={"colours": "1", "seconds": "3"})
    if r.status_code not in (200, 201):
        raise RuntimeError(f"saving a creation for {kid.name}: {r.status_code} {r.text[:200]}")
    return r.json()["creation"]["id"]


def save_portrait(w: World, family: str) -> int:
    """A new picture in the family grown-up's own album (each one different: the same picture saved twice is one)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), tuple(secrets.token_bytes(3))).save(buf, "PNG")
    r = w.owners[family].post("/api/portraits", files={"picture": ("p.png", buf.getvalue(), "image/png")}, data={"style": "probe"})
    if r.status_code not in (200, 201):
        raise RuntimeError(f"saving a grown-up's picture for family {family}: {r.status_code} {r.text[:200]}")
    pid = r.json()["id"]
    w.portraits.setdefault(family, []).append(pid)
    return pid


def add_family(w: World, family: str, kids: list[str]) -> None:
    email = sp.unique_email(f"abuse-{family.lower()}")
    w.emails[family] = email
    owner = sp.parent(w.url, email)
    w.owners[family] = owner
    for i, name in enumerate(kids):
        pin = sp.pins(w.info, 1, seed=len(w.kids) * 7 + i)[0]
        nick = nickname(name)
        cid = owner.add_child(nick, pin, w.info["avatars"][i % len(w.info["avatars"])])
        w.nicknames[nick] = family
        w.kids[name] = Kid(name, family, cid, pin, nick, sp.child(w.url, email, cid, pin))


def build_world(url: str, info: dict, families: dict[str, list[str]]) -> World:
    w = World(url, info, httpx.get(url + "/openapi.json", timeout=30).raise_for_status().json())
    for family, kids in families.items():
        add_family(w, family, kids)
    for kid in w.kids.values():
        kid.creations += [save_creation(kid, picture=True), save_creation(kid, picture=False)]
    for family in families:
        save_portrait(w, family)
    w.missing_child = max(k.id for k in w.kids.values()) + 100_000
    w.missing_creation = max(c for k in w.kids.values() for c in k.creations) + 100_000
    w.missing_portrait = max(p for ids in w.portraits.values() for p in ids) + 100_000
    return w


def add_viewers(w: World, families: list[str]) -> None:
    w.viewers.append(Viewer("guest", None, None, sp.guest(w.url)))
    for family in families:
        w.viewers.append(Viewer(f"parent {family}", family, None, sp.parent_session(w.url, w.emails[family])))
    for kid in w.kids.values():
        if kid.family in families:
            w.viewers.append(Viewer(f"child {kid.name}", kid.family, kid, sp.child(w.url, w.emails[kid.family], kid.id, kid.pin)))


def restore(w: World, v: Viewer) -> None:
    """Make ``v`` who it was again (a try may have entered a profile, unlocked or logged out)."""
    try:
        me = v.browser.me()
    except httpx.HTTPError:
        me = {}
    want_child = v.kid.id if v.kid else None
    if me.get("role") == ("guest" if v.family is None else "child" if v.kid else "parent") and \
            (me.get("child") or {}).get("id") == want_child:
        return
    v.browser.close()
    if v.family is None:
        v.browser = sp.guest(w.url)
    elif v.kid is None:
        v.browser = sp.parent_session(w.url, w.emails[v.family])
    else:
        v.browser = sp.child(w.url, w.emails[v.family], v.kid.id, v.kid.pin)


def relation(v: Viewer, owner: Kid | None) -> str:
    if owner is None:
        return NONE
    if v.family is None:
        return GUEST
    if v.family != owner.family:
        return OTHER
    if v.kid is None:
        return OWN_CHILD
    return OWN if v.kid.name == owner.name else SIBLING


# ================================================================ leaks


def body_texts(r: httpx.Response) -> list[str]:
    ctype = r.headers.get("content-type", "")
    if "json" in ctype:
        return [r.text]
    if "zip" in ctype:
        try:
            with zipfile.ZipFile(io.BytesIO(r.content)) as z:
                return [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".json")]
        except zipfile.BadZipFile:
            return []
    return []


def walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def leaks(w: World, v: Viewer, r: httpx.Response) -> list[str]:
    """What ``r``'s body shows that ``v`` may not see."""
    found = []
    seeable_children = ({v.kid.id} if v.kid else {k.id for k in w.kids.values() if k.family == v.family}) if v.family else set()
    seeable_portraits = set(w.portraits.get(v.family, [])) if v.family and v.kid is None else set()  # the grown-up's own
    for text in body_texts(r):
        for nick, family in w.nicknames.items():
            if family != v.family and nick in text:
                found.append(f"nickname of family {family}")
        for family, email in w.emails.items():
            if family != v.family and email in text:
                found.append(f"e-mail of family {family}")
        try:
            data = json.loads(text)
        except ValueError:
            continue
        for obj in walk(data):
            if "child_id" in obj and "drawing_url" in obj and obj["child_id"] not in seeable_children:
                found.append(f"creation {obj.get('id')} of child {obj['child_id']}")
            if str(obj.get("picture_url", "")).startswith("/api/portraits/") and obj.get("id") not in seeable_portraits:
                found.append(f"a grown-up's picture {obj.get('id')}")
    return found
