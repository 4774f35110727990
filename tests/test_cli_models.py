"""A command given a model of the wrong kind says what that model makes and which models fit (exit 2)."""

import numpy as np
from PIL import Image

from tests.cli_run import run_cli as run


def _doodle(path):
    page = np.full((64, 64, 3), 255, np.uint8)
    page[20:44, 30:33] = 0
    Image.fromarray(page).save(path)
    return path


def test_generate_with_a_model_that_takes_no_drawings(monkeypatch, capsys, tmp_path):
    doodle = _doodle(tmp_path / "d.png")
    for name, makes in (("anime_face", "pictures from nothing"), ("recognizer", "guesses of what a drawing shows"),
                        ("anime", "character styles for photos")):
        code, text = run(monkeypatch, capsys, "generate", "--model", name, doodle, "-o", tmp_path / "o.png")
        assert code == 2 and "Traceback" not in text, text
        assert makes in text and "cat" in text and "shoe_handbag" in text  # the models that do take drawings


def test_sample_with_a_sketch_model(monkeypatch, capsys, tmp_path):
    code, text = run(monkeypatch, capsys, "sample", "--model", "cat", "-o", tmp_path / "s.png")
    assert code == 2 and "pictures from drawings" in text and "anime_face" in text


def test_models_in_a_pipe_shows_whole_paths(monkeypatch, capsys):
    from icanvas.catalog import BUNDLED_DIR

    code, text = run(monkeypatch, capsys, "models")
    assert code == 0
    assert str(BUNDLED_DIR / "shoe_handbag") in text  # the "where" column is not cut to the terminal's 80 columns


def test_help_has_no_type_tags(monkeypatch, capsys):
    for command in (["generate"], ["train"], ["characters", "learn"]):
        code, text = run(monkeypatch, capsys, *command, "--help")
        assert code == 0
        assert "<bool>" not in text and "<str>" not in text and "<int>" not in text, command
    code, text = run(monkeypatch, capsys, "generate", "--help")
    assert "PATH" in text and "TEXT" in text  # an option that takes a value says what kind
