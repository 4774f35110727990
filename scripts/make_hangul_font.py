"""Build the studio's Hangul web font: NanumGothic (regular and bold) cut to the 2,350 everyday
Hangul syllables (KS X 1001) and the Hangul letters, renamed "iCanvas Hangul", as WOFF2.

The studio speaks Korean first, and a device without a Korean font shows its words as boxes;
the page asks for this font only when the device has no Korean font of its own
(``local()`` first, ``unicode-range`` limited to Hangul). NanumGothic is under the SIL Open
Font License 1.1 with reserved font names, so the cut-down copy carries another name; the
licence is in src/icanvas/serve/static/fonts/OFL.txt.

Run once when the font should change (needs ``pip install fonttools brotli``):

    apt-get download fonts-nanum && dpkg -x fonts-nanum_*.deb /tmp/nanum
    python scripts/make_hangul_font.py /tmp/nanum/usr/share/fonts/truetype/nanum
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parents[1] / "src" / "icanvas" / "serve" / "static" / "fonts"
FAMILY = "iCanvas Hangul"  # not a reserved name of the source font
WEIGHTS = {400: "NanumGothic.ttf", 700: "NanumGothicBold.ttf"}


def everyday_hangul() -> list[int]:
    """Code points: the KS X 1001 syllables (every one EUC-KR can encode) and the Hangul letters."""
    syllables = [c for c in range(0xAC00, 0xD7A4) if _euc_kr(chr(c))]
    letters = list(range(0x3131, 0x318F)) + list(range(0x1100, 0x1200))
    return syllables + letters


def _euc_kr(ch: str) -> bool:
    try:
        ch.encode("euc-kr")
        return True
    except UnicodeEncodeError:
        return False


def build(source_dir: Path, weight: int, file: str) -> Path:
    font = TTFont(source_dir / file)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # copyright, names and version only
    sub = subset.Subsetter(options)
    sub.populate(unicodes=everyday_hangul())
    sub.subset(font)
    style = "Bold" if weight == 700 else "Regular"
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 6, 16):
            rec.string = {1: FAMILY, 4: f"{FAMILY} {style}", 6: f"iCanvasHangul-{style}", 16: FAMILY}[rec.nameID]
        elif rec.nameID == 3:
            rec.string = f"{FAMILY} {style}; subset of NanumGothic"
    out = OUT / f"icanvas-hangul-{weight}.woff2"
    font.flavor = "woff2"
    font.save(out)
    return out


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT.mkdir(parents=True, exist_ok=True)
    for weight, file in WEIGHTS.items():
        out = build(Path(sys.argv[1]), weight, file)
        print(f"{out} ({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
