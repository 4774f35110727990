"""Which recognizer labels may check a child's chosen kind for the missions."""

from datetime import datetime, timezone
from types import SimpleNamespace

from icanvas.serve import game
from icanvas.serve.game import CreationFacts
from icanvas.serve.kinds import Models


def _recognizer(labels, synthetic=()):
    return SimpleNamespace(labels=list(labels), info=SimpleNamespace(meta={"synthetic_labels": list(synthetic)}),
                           predict=lambda lines, top=3: [])


def test_labels_learnt_only_from_drawn_from_photo_doodles_do_not_check_the_chosen_kind():
    models = Models({}, _recognizer(["cat", "car", "shoe", "panda"], synthetic=["shoe", "panda"]))
    assert models.known_labels == frozenset({"cat", "car"})
    facts = CreationFacts(datetime.now(timezone.utc), kind="shoe")  # chosen by hand; not named by the recognizer
    assert "shoe" in game.drawn_kinds(facts, models.known_labels)  # the shoe mission counts it
    cat = CreationFacts(datetime.now(timezone.utc), kind="cat")  # a kind the recognizer can check: it must name it
    assert "cat" not in game.drawn_kinds(cat, models.known_labels)


def test_without_a_recognizer_nothing_is_checked():
    assert Models({}, None).known_labels == frozenset()
    assert Models({}, _recognizer(["cat"])).known_labels == frozenset({"cat"})


def test_every_label_of_the_bundled_recognizer_has_words_in_both_languages():
    import json
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "icanvas"
    labels = json.loads((src / "bundled" / "recognizer" / "config.json").read_text())["meta"]["labels"]
    strings = (src / "serve" / "static" / "js" / "strings.js").read_text()
    ko, en = strings.split("export const en = {")
    for words in (ko, en):
        named = set(re.findall(r'"thing\.(\w+)":', words))
        assert set(labels) <= named, sorted(set(labels) - named)  # "Is it a shoe?", not "Is it shoe?"
