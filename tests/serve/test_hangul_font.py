"""The studio's Hangul font covers every Korean word the studio shows.

The font is NanumGothic cut to the KS X 1001 syllables (scripts/make_hangul_font.py), exactly
the syllables EUC-KR can encode: a word outside that set would show as a box on a device
without a Korean font.
"""

import re
from pathlib import Path

from icanvas.serve.kinds import KIND_TABLE

STATIC = Path(__file__).resolve().parents[2] / "src" / "icanvas" / "serve" / "static"
SERVE = STATIC.parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _korean_texts() -> str:
    texts = [(STATIC / "js" / "strings.js").read_text(), (STATIC / "index.html").read_text(), (SERVE / "missions.yaml").read_text()]
    texts += [label["ko"] for label, _ in KIND_TABLE.values()]
    texts += [p.read_text() for p in (STATIC / "js").glob("*.js")]
    return "".join(texts)


def test_every_korean_syllable_the_studio_shows_is_in_its_font():
    syllables = set(HANGUL.findall(_korean_texts()))
    assert len(syllables) > 100  # the studio speaks Korean
    missing = sorted(s for s in syllables if not _in_ks_x_1001(s))
    assert missing == []


def test_the_font_files_and_their_licence_are_there():
    fonts = STATIC / "fonts"
    for weight in (400, 700):
        data = (fonts / f"icanvas-hangul-{weight}.woff2").read_bytes()
        assert data[:4] == b"wOF2" and 100_000 < len(data) < 2_000_000
    licence = (fonts / "OFL.txt").read_text()
    assert "SIL OPEN FONT LICENSE" in licence and "Reserved Font Name" in licence
    css = (STATIC / "style.css").read_text()
    assert css.count("icanvas-hangul-") == 2 and '"iCanvas Hangul"' in css


def _in_ks_x_1001(ch: str) -> bool:
    try:
        ch.encode("euc-kr")
        return True
    except UnicodeEncodeError:
        return False
