"""Who may do what: the authorization matrix, a CSRF sweep and login/PIN races against the studio.

    python benchmarks/abuse.py                          # own server, SQLite
    python benchmarks/abuse.py --database postgresql    # a fresh database on $ICANVAS_TEST_POSTGRES_URL
    python benchmarks/abuse.py --race 32 --skip matrix  # only the CSRF sweep and the races
    python benchmarks/abuse.py --url http://127.0.0.1:8000   # a running server (it gets new accounts; see below)

(a) Matrix. Two families, A (children A1, A2) and B (child B1), and a guest. Every route of
/openapi.json with an ``*_id`` parameter (album, profiles, export, delete, favourite, images)
is tried by each of guest, parent A, parent B, child A1, child A2 and child B1 on the ids of
A1, A2 and B1 (or of a creation of each, or of each family grown-up's own picture, which counts
as the family's first child's for the relations) and on an id that does not exist. The rule table
``RULES`` says which relations must be granted (a child's own things, a parent's children's
things; entering a profile: the whole family); every other try must be refused. A wrongful
grant is a 2xx answer (an empty JSON list counts as a refusal) where the rules refuse. Every
2xx body (JSON, and the JSON inside an export zip), also of the id-less GET routes, is scanned
for another family's nicknames or e-mail and for creations of a child the viewer may not see:
each such body is a leak. Deleting routes are tried on throwaway profiles and creations, and
every viewer is set back to who it was after each try. "Existence shown" counts viewers who
get a different answer for another family's id than for an id that does not exist.

(b) CSRF. Every POST/PUT/PATCH/DELETE route is sent by a signed-in parent and by a child of a
third family, with valid bodies and ids, three ways: without the X-CSRF-Token header, with a
wrong one, and with an attacker's pair (a random token set both as the icanvas_csrf cookie and
as the header). An answer other than the CSRF refusal (that of a request with no cookies at
all) is an accepted request.

(c) Races. ``--race`` concurrent wrong picture PINs against one child, from one parent
session: a 403 means the PIN was checked, a 429 that the limit held; at most ``--pin-limit``
may be checked. Then ``--race`` concurrent wrong passwords against one account from new
browsers (answers are counted and shown; not judged). The password race runs last: it may
block further log-ins from 127.0.0.1 to that account for a while.

Exits with status 1 on any wrongful grant, leak, accepted CSRF request or too many checked
PINs. Every run makes new accounts; a server limits sign-ups per address (use your own).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

import studio_probe as sp
from families import (
    NONE, OTHER, OWN, OWN_CHILD, SIBLING, Kid, Viewer, World, add_family, add_viewers, build_world, drawing, leaks, nickname,
    relation, restore, save_creation, save_portrait,
)

PIN_LIMIT = 5  # wrong picture PINs the studio may check per child before it answers 429
RACE = 32  # concurrent tries in each race

SEE = frozenset({OWN, OWN_CHILD})  # the child itself and its parent
PARENT = frozenset({OWN_CHILD})  # the parent only
FAMILY = frozenset({OWN, SIBLING, OWN_CHILD})  # anyone logged in to the family
RULES = {  # (method, path) -> relations that must be granted; everything else must be refused
    ("GET", "/api/creations"): SEE,  # the album narrowed by ?child_id=
    ("PATCH", "/api/creations/{creation_id}"): SEE,  # favourite
    ("DELETE", "/api/creations/{creation_id}"): PARENT,
    ("GET", "/api/creations/{creation_id}/drawing.png"): SEE,
    ("GET", "/api/creations/{creation_id}/picture.png"): SEE,
    ("PATCH", "/api/children/{child_id}"): PARENT,
    ("DELETE", "/api/children/{child_id}"): PARENT,
    ("GET", "/api/children/{child_id}/export"): PARENT,
    ("POST", "/api/children/{child_id}/enter"): FAMILY,
    ("GET", "/api/portraits/{portrait_id}/picture.png"): PARENT,  # a grown-up's own pictures: never their children's
    ("DELETE", "/api/portraits/{portrait_id}"): PARENT,
}
ID_KINDS = {"child_id": "child", "creation_id": "creation", "portrait_id": "portrait"}  # parameter name -> what it names


# ================================================================ (a) the matrix


@dataclass
class Try:
    op: str
    viewer: str
    target: str  # "A1", "none", ...
    relation: str
    status: int
    expected: bool  # must be granted
    granted: bool
    leaks: list[str]


@dataclass
class Matrix:
    tries: list[Try] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)  # routes with an id parameter the probe does not know
    default_rules: list[str] = field(default_factory=list)  # routes judged by the default rule

    @property
    def wrongful(self) -> list[Try]:
        return [t for t in self.tries if t.granted and not t.expected]

    @property
    def leaked(self) -> list[Try]:
        return [t for t in self.tries if t.leaks]

    def existence_shown(self) -> int:
        by = defaultdict(dict)
        for t in self.tries:
            by[(t.op, t.viewer)][t.relation] = t.status
        return sum(1 for rel in by.values() if OTHER in rel and NONE in rel and rel[OTHER] != rel[NONE])


def granted(r: httpx.Response) -> bool:
    if not r.is_success:
        return False
    if "json" in r.headers.get("content-type", ""):
        try:
            return r.json() != []  # an empty list shows nothing
        except ValueError:
            return True
    return True


def throwaway(w: World, what: str, owner: Kid) -> int:
    """A new profile in ``owner``'s family, a new creation of ``owner`` or a new picture of its
    grown-up, to be deleted by a try."""
    if what == "creation":
        return save_creation(owner, picture=False)
    if what == "portrait":
        return save_portrait(w, owner.family)
    nick = nickname(owner.family + "x")
    cid = w.owners[owner.family].add_child(nick, owner.pin, w.info["avatars"][0])
    w.nicknames[nick] = owner.family
    return cid


def clean_up(w: World, what: str, owner: Kid, rid: int) -> None:
    """Delete a throwaway the try left (as its parent)."""
    path = {"creation": f"/api/creations/{rid}", "portrait": f"/api/portraits/{rid}"}.get(what, f"/api/children/{rid}")
    w.owners[owner.family].request("DELETE", path)


def existing(w: World, what: str, owner: Kid) -> int:
    """The id of ``owner``'s thing of kind ``what`` (for a portrait: its family grown-up's first picture)."""
    if what == "child":
        return owner.id
    return w.portraits[owner.family][0] if what == "portrait" else owner.creations[0]


def targets(w: World, what: str) -> list[tuple[str, Kid | None, int]]:
    """(label, owner, id) for each kid's thing (a grown-up's picture: one per family, owned through
    its first child) and one missing id."""
    if what == "portrait":
        first: dict[str, Kid] = {}
        for k in w.kids.values():
            first.setdefault(k.family, k)
        missing = w.missing_portrait
        return [(f"grown-up {f}", k, existing(w, what, k)) for f, k in first.items()] + [("none", None, missing)]
    out = [(k.name, k, existing(w, what, k)) for k in w.kids.values()]
    return out + [("none", None, w.missing_child if what == "child" else w.missing_creation)]


def values_for(w: World, v: Viewer, owner: Kid | None) -> dict:
    """Field values for request bodies: the target's PIN, the viewer's family password, fresh names."""
    return {"pin": (owner.pin if owner else ["apple"] * 3), "password": sp.PASSWORD, "favourite": True,
            "email": w.emails.get(v.family or "", sp.unique_email("abuse-x")), "nickname": nickname("N"),
            "kind": (w.info["kinds"][0]["kind"] if w.info["kinds"] else "cat"), "avatar": w.info["avatars"][0]}


def send(b: sp.Browser, op: sp.Op, ids: dict[str, int], kw: dict, headers: dict | None = None,
         client: httpx.Client | None = None) -> httpx.Response:
    """``op`` with ``ids`` from ``b`` (its CSRF header added), or exactly as given from ``client``."""
    path = op.path.format(**{p["name"]: ids[p["name"]] for p in op.params if p["in"] == "path"})
    query = {p["name"]: ids[p["name"]] for p in op.params if p["in"] == "query" and p["name"] in ids}
    if client is not None:
        return client.request(op.method, b.url + path, params=query, headers=headers, **kw)
    return b.request(op.method, path, params=query, headers=headers, **kw)


def run_matrix(w: World) -> Matrix:
    m = Matrix()
    ops = sp.operations(w.spec)
    for op in ops:
        idp = op.id_params()
        if not idp:
            continue
        if any(p["name"] not in ID_KINDS for p in idp) or len(idp) > 1:
            m.unjudged.append(op.name)
            continue
        param, what = idp[0]["name"], ID_KINDS[idp[0]["name"]]
        rule = RULES.get((op.method, op.path))
        if rule is None:
            rule = SEE if op.method == "GET" else PARENT
            m.default_rules.append(op.name)
        for v in w.viewers:
            for label, owner, rid in targets(w, what):
                made = owner is not None and op.method == "DELETE"
                if made:
                    rid = throwaway(w, what, owner)
                rel = relation(v, owner)
                r = send(v.browser, op, {param: rid}, sp.request_kwargs(op, w.spec, values_for(w, v, owner), drawing()))
                m.tries.append(Try(op.name, v.name, label, rel, r.status_code, rel in rule, granted(r),
                                   leaks(w, v, r) if r.is_success else []))
                if made and not r.is_success:
                    clean_up(w, what, owner, rid)
                restore(w, v)
    for op in ops:  # the id-less GET routes: nothing but a leak to look for
        if op.method == "GET" and not any(p["in"] == "path" or p.get("required") for p in op.params):
            for v in w.viewers:
                r = send(v.browser, op, {}, {})
                m.tries.append(Try(op.name, v.name, "-", "-", r.status_code, True, False, leaks(w, v, r) if r.is_success else []))
    return m


def matrix_table(m: Matrix) -> str:
    rows = []
    by_op: dict[str, list[Try]] = defaultdict(list)
    for t in m.tries:
        by_op[t.op].append(t)
    for name, ts in by_op.items():
        judged = [t for t in ts if t.relation != "-"]
        sub = Matrix(ts)
        rows.append([name + (" (default rule)" if name in m.default_rules else ""), len(ts),
                     sum(t.expected for t in judged) if judged else "-", sum(t.granted for t in judged) if judged else "-",
                     len(sub.wrongful), sum(1 for t in judged if t.expected and not t.granted) if judged else "-",
                     len(sub.leaked), sub.existence_shown() if judged else "-"])
    return sp.table(["route", "tries", "must grant", "granted", "wrongful grants", "wrongful refusals", "leaks", "existence shown"], rows)


# ================================================================ (b) CSRF


@dataclass
class CsrfTry:
    op: str
    viewer: str
    variant: str  # "no header", "wrong header", "attacker pair"
    status: int
    accepted: bool


VARIANTS = ("no header", "wrong header", "attacker pair")  # forged requests: each must be refused
CONTROL = "right header"  # the viewer's own token: must get past the check, else the route's row proves nothing


def problem(r: httpx.Response) -> str:
    try:
        return (r.json().get("detail") or {}).get("problem", "")
    except (ValueError, AttributeError):
        return ""


def csrf_refusal(w: World, op: sp.Op) -> tuple[int, str]:
    """The answer of a state-changing request from a browser with no cookies and no header."""
    with httpx.Client(timeout=30) as c:
        r = c.request(op.method, w.url + op.path.format(child_id=0, creation_id=0))
        return r.status_code, problem(r)


def forged(v: Viewer, variant: str) -> tuple[httpx.Client, dict]:
    """A one-off client with ``v``'s cookies (the CSRF cookie replaced for the attacker's pair) and its header."""
    cookies = v.browser.cookies()
    if variant == CONTROL:
        return httpx.Client(timeout=60, cookies=cookies), {sp.CSRF_HEADER: v.browser.csrf}
    token = secrets.token_urlsafe(32)
    if variant == "attacker pair":
        cookies[sp.CSRF_COOKIE] = token
    client = httpx.Client(timeout=60, cookies=cookies)
    return client, ({} if variant == "no header" else {sp.CSRF_HEADER: token})


def run_csrf(w: World, viewers: list[Viewer]) -> tuple[list[CsrfTry], tuple[int, str]]:
    ops = [op for op in sp.operations(w.spec) if op.method in sp.UNSAFE]
    refusal = csrf_refusal(w, next((op for op in ops if op.path == "/api/auth/logout"), ops[0]))
    out = []
    for op in ops:
        for v in viewers:
            for variant in (*VARIANTS, CONTROL):
                owner = v.kid or next(k for k in w.kids.values() if k.family == v.family)
                ids, made = {}, None
                for p in op.id_params():
                    what = ID_KINDS.get(p["name"], "child")
                    if op.method == "DELETE":
                        made = (what, throwaway(w, what, owner))
                        ids[p["name"]] = made[1]
                    else:
                        ids[p["name"]] = existing(w, what, owner)
                values = values_for(w, v, owner)
                if op.path == "/api/auth/register":
                    values["email"] = sp.unique_email("abuse-csrf")
                client, headers = forged(v, variant)
                try:
                    r = send(v.browser, op, ids, sp.request_kwargs(op, w.spec, values, drawing()), headers, client)
                finally:
                    client.close()
                out.append(CsrfTry(op.name, v.name, variant, r.status_code, (r.status_code, problem(r)) != refusal))
                if made and not r.is_success:
                    clean_up(w, made[0], owner, made[1])
                restore(w, v)
    return out, refusal


def csrf_table(tries: list[CsrfTry]) -> str:
    rows = []
    by_op: dict[str, list[CsrfTry]] = defaultdict(list)
    for t in tries:
        by_op[t.op].append(t)
    for name, ts in by_op.items():
        rows.append([name, *(sum(t.accepted for t in ts if t.variant == var) for var in VARIANTS),
                     f"{sum(t.accepted for t in ts if t.variant == CONTROL)}/{sum(t.variant == CONTROL for t in ts)}",
                     ", ".join(f"{s}x{n}" for s, n in sorted(Counter(t.status for t in ts if t.variant != CONTROL).items()))])
    return sp.table(["route", *(f"accepted: {v}" for v in VARIANTS), "control passed", "forged answers"], rows)


# ================================================================ (c) races


@dataclass
class Race:
    name: str
    sent: int
    answers: Counter
    checked: int  # answers that mean the secret was compared
    limit: int | None  # most that may be checked (None: not judged)

    @property
    def ok(self) -> bool:
        return self.limit is None or self.checked <= self.limit


def race(make: list[sp.Browser], path: str, body: dict) -> Counter:
    """Every browser in ``make`` posts ``body`` to ``path`` at the same moment; answers by status."""
    n = len(make)
    gate, answers, lock = threading.Barrier(n, timeout=60), Counter(), threading.Lock()

    def one(b: sp.Browser) -> None:
        try:
            gate.wait()
            status = str(b.post(path, json=body).status_code)
        except (httpx.HTTPError, threading.BrokenBarrierError) as e:
            status = type(e).__name__
        with lock:
            answers[status] += 1

    threads = [threading.Thread(target=one, args=(b,), daemon=True) for b in make]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def wrong_pin(info: dict, pin: list[str]) -> list[str]:
    icons = info["pin_icons"]
    return [next(i for i in icons if i != pin[0]), *pin[1:]]


def run_races(w: World, n: int, pin_limit: int) -> list[Race]:
    add_family(w, "R", ["R1"])
    kid, email = w.kids["R1"], w.emails["R"]
    parent = sp.parent_session(w.url, email)
    clones = [parent.clone() for _ in range(n)]
    pins = race(clones, f"/api/children/{kid.id}/enter", {"pin": wrong_pin(w.info, kid.pin)})
    for b in clones + [parent]:
        b.close()
    browsers = [sp.guest(w.url) for _ in range(n)]
    words = race(browsers, "/api/auth/login", {"email": email, "password": "not the password " + secrets.token_hex(4)})
    for b in browsers:
        b.close()
    return [Race(f"{n} wrong picture PINs, one child", n, pins, pins["403"], pin_limit),
            Race(f"{n} wrong passwords, one account", n, words, words["401"], None)]


def race_table(races: list[Race]) -> str:
    rows = [[r.name, r.sent, r.checked, r.answers["429"], sum(v for k, v in r.answers.items() if k not in ("401", "403", "429")),
             "-" if r.limit is None else f"<= {r.limit}", "counted" if r.limit is None else "ok" if r.ok else "TOO MANY"]
            for r in races]
    return sp.table(["race", "sent", "checked (401/403)", "429", "other", "target", "verdict"], rows)


# ================================================================ main


@dataclass
class Report:
    matrix: Matrix | None = None
    csrf: list[CsrfTry] | None = None
    refusal: tuple[int, str] | None = None
    races: list[Race] | None = None

    @property
    def failures(self) -> list[str]:
        out = []
        if self.matrix:
            if self.matrix.wrongful:
                out.append(f"{len(self.matrix.wrongful)} wrongful grants")
            if self.matrix.leaked:
                out.append(f"{len(self.matrix.leaked)} bodies with data the viewer may not see")
        if self.csrf and (n := sum(t.accepted for t in self.csrf if t.variant != CONTROL)):
            out.append(f"{n} requests got past the CSRF check")
        for r in self.races or []:
            if not r.ok:
                out.append(f"{r.name}: {r.checked} checked, more than {r.limit}")
        return out


def probe(url: str, info: dict, parts: set[str], race_n: int = RACE, pin_limit: int = PIN_LIMIT) -> Report:
    """Run the parts ("matrix", "csrf", "races") against the server at ``url``."""
    rep = Report()
    families = {"A": ["A1", "A2"], "B": ["B1"]}
    w = build_world(url, info, families)
    try:
        if "matrix" in parts:
            add_viewers(w, ["A", "B"])
            rep.matrix = run_matrix(w)
        if "csrf" in parts:
            add_family(w, "C", ["C1"])
            viewers = [Viewer("parent C", "C", None, sp.parent_session(url, w.emails["C"])),
                       Viewer("child C1", "C", w.kids["C1"], sp.child(url, w.emails["C"], w.kids["C1"].id, w.kids["C1"].pin))]
            w.viewers += viewers
            w.kids["C1"].creations.append(save_creation(w.kids["C1"]))
            rep.csrf, rep.refusal = run_csrf(w, viewers)
        if "races" in parts:
            rep.races = run_races(w, race_n, pin_limit)
    finally:
        w.close()
    return rep


def render(rep: Report) -> str:
    out = []
    if rep.matrix:
        m = rep.matrix
        out.append("(a) Authorization matrix\n\n" + matrix_table(m))
        bad = (m.wrongful + [t for t in m.leaked if t not in m.wrongful])[:30]
        if bad:
            out.append("\n".join(f"  {t.viewer} {t.op} on {t.target}'s ({t.relation}): {t.status}"
                                 + (" granted" if t.granted and not t.expected else "")
                                 + (f"; shows {', '.join(sorted(set(t.leaks)))}" if t.leaks else "") for t in bad))
        if m.unjudged:
            out.append("Routes with id parameters the rule table does not know (not tried): " + ", ".join(m.unjudged))
        if m.default_rules:
            out.append("Judged by the default rule (GET: the child and its parent; else the parent): " + ", ".join(m.default_rules))
    if rep.csrf is not None:
        out.append(f"(b) CSRF (the refusal: {rep.refusal[0]} {rep.refusal[1]!r})\n\n" + csrf_table(rep.csrf)
                   + f"\n\nforged requests accepted: {sum(t.accepted for t in rep.csrf if t.variant != CONTROL)} of "
                   f"{sum(t.variant != CONTROL for t in rep.csrf)}; control (the viewer's own token) got past the check: "
                   f"{sum(t.accepted for t in rep.csrf if t.variant == CONTROL)} of {sum(t.variant == CONTROL for t in rep.csrf)}")
    if rep.races is not None:
        out.append("(c) Races\n\n" + race_table(rep.races) + "\n\n" + "\n".join(
            f"  {r.name}: " + ", ".join(f"{k}x{v}" for k, v in sorted(r.answers.items())) for r in rep.races))
    return "\n\n".join(out)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip", nargs="+", choices=["matrix", "csrf", "races"], default=[], help="parts not to run")
    ap.add_argument("--race", type=int, default=RACE, help=f"concurrent tries in each race (default {RACE})")
    ap.add_argument("--pin-limit", type=int, default=PIN_LIMIT, help=f"wrong PINs that may be checked per child (default {PIN_LIMIT})")
    sp.add_server_options(ap)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    sp.local_only(args.url)
    with sp.studio(args.url, args.database, sp.env_pairs(args.env), args.postgres_url, prefix="icanvas-abuse-") as s:
        print(sp.machine_line())
        print(f"Server: {s.url} ({'started here, ' + args.database if s.server else 'given'})\n", flush=True)
        rep = probe(s.url, s.info, {"matrix", "csrf", "races"} - set(args.skip), args.race, args.pin_limit)
    print(render(rep))
    failures = rep.failures
    print("\nFAILED: " + "; ".join(failures) if failures else "\nOK: no wrongful grant or leak, CSRF refused, PIN tries held.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
