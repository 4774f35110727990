"""Bad input through the command line: a clear message naming the problem, exit status 2, no traceback."""

from tests.cli_run import run_cli as run


def test_help_lists_commands(monkeypatch, capsys):
    code, text = run(monkeypatch, capsys, "--help")
    assert code == 0
    for cmd in ("prepare", "train", "generate", "sample", "evaluate", "export", "models"):
        assert cmd in text


def test_prepare_empty_folder(monkeypatch, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, text = run(monkeypatch, capsys, "prepare", tmp_path / "empty", tmp_path / "out")
    assert code == 2 and "No images" in text and "Traceback" not in text


def test_prepare_only_corrupt_images(monkeypatch, capsys, tmp_path):
    src = tmp_path / "bad"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, text = run(monkeypatch, capsys, "prepare", src, tmp_path / "out", "--workers", "1")
    assert code == 2 and "could be used" in text


def test_generate_corrupt_image_and_missing_model(monkeypatch, capsys, tmp_path, prepared_dir):
    code, text = run(monkeypatch, capsys, "generate", "--model", "no-such-model", tmp_path / "x.png")
    assert code == 2 and "No model named 'no-such-model'" in text
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"format_version": 1, "method": "pix2pix", "model": {"image_size": 32}}')
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, text = run(monkeypatch, capsys, "generate", "--model", folder, bad)
    assert code == 2 and "generator.safetensors" in text


def test_generate_reports_a_corrupt_drawing(monkeypatch, capsys, tmp_path):
    import torch

    from icanvas.checkpoint import save_pretrained
    from icanvas.config import UNetConfig
    from icanvas.models import UNetGenerator

    cfg = UNetConfig(image_size=32, ngf=4, max_channels=8)
    save_pretrained(UNetGenerator(cfg), tmp_path / "m", method="pix2pix", config=cfg)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, text = run(monkeypatch, capsys, "generate", "--model", tmp_path / "m", bad, "-o", tmp_path / "o", "--backend", "torch")
    assert code == 2 and "bad.png" in text and "Traceback" not in text
    assert torch.__version__  # torch imported fine alongside


def test_train_wrong_config_key(monkeypatch, capsys, tmp_path, prepared_dir):
    code, text = run(monkeypatch, capsys, "train", "--config", "tiny", "--data", prepared_dir, "--out", tmp_path / "r",
                     "--set", "run.stepz=3")
    assert code == 2 and "run.stepz" in text and "steps" in text


def test_train_missing_data(monkeypatch, capsys, tmp_path):
    code, text = run(monkeypatch, capsys, "train", "--config", "tiny", "--data", tmp_path / "nothing", "--out", tmp_path / "r")
    assert code == 2 and "does not exist" in text and "icanvas prepare" in text


def test_train_dry_run(monkeypatch, capsys, tmp_path, prepared_dir):
    code, text = run(monkeypatch, capsys, "train", "--config", "tiny", "--data", prepared_dir, "--out", tmp_path / "r", "--dry-run")
    assert code == 0 and "training pairs at 32 px" in text and not (tmp_path / "r").exists()


def test_generate_with_a_bundled_kind(monkeypatch, capsys, tmp_path):
    """`icanvas generate --model cat doodle.png` works out of the box: the kind finds the bundled model."""
    import cv2
    import numpy as np
    from PIL import Image

    page = np.full((300, 400, 3), 255, np.uint8)
    cv2.circle(page, (200, 160), 90, (0, 0, 0), 6)
    cv2.line(page, (130, 90), (150, 40), (0, 0, 0), 6)
    Image.fromarray(page).save(tmp_path / "doodle.png")
    code, text = run(monkeypatch, capsys, "generate", "--model", "cat", "--backend", "torch", tmp_path / "doodle.png", "-o", tmp_path / "out")
    assert code == 0, text
    picture = np.asarray(Image.open(tmp_path / "out" / "doodle.png"))
    assert picture.shape == (300, 400, 3)
    inside, outside = picture[130:190, 170:230].astype(int), picture[5:30, 5:30].astype(int)
    assert inside.mean() < outside.mean() - 20  # the cat is painted where the drawing is, paper stays light
    code, text = run(monkeypatch, capsys, "generate", "--model", "face", "--backend", "torch", tmp_path / "doodle.png", "-o",
                     tmp_path / "face.png", "--side-by-side")
    assert code == 0, text  # a .png output is the picture itself; the face model frames the drawing smaller
    assert np.asarray(Image.open(tmp_path / "face.png")).shape == (300, 400, 3) and (tmp_path / "face_pair.png").is_file()
    code, text = run(monkeypatch, capsys, "generate", "--model", "cat", tmp_path / "doodle.png", tmp_path / "doodle.png", "-o", tmp_path / "x.png")
    assert code == 2 and "one file" in text and not (tmp_path / "x.png").exists()


def test_sample_writes_pictures_and_grid_deterministically(monkeypatch, capsys, tmp_path):
    import numpy as np
    from PIL import Image

    from icanvas.checkpoint import save_pretrained
    from icanvas.config import DCGANGeneratorConfig
    from icanvas.models.dcgan import DCGANGenerator

    cfg = DCGANGeneratorConfig(image_size=16, latent_dim=4, ngf=2, max_channels=4)
    save_pretrained(DCGANGenerator(cfg), tmp_path / "stars", method="dcgan", config=cfg, meta={"kinds": ["star"]})
    monkeypatch.setenv("ICANVAS_MODEL_PATH", str(tmp_path))
    outs = []
    for name in ("a", "b"):
        code, text = run(monkeypatch, capsys, "sample", "--model", "star", "-n", "3", "--seed", "5", "-o", tmp_path / name, "--scale", "2")
        assert code == 0, text
        files = sorted(p.name for p in (tmp_path / name).iterdir())
        assert files == ["grid.png", "sample_000.png", "sample_001.png", "sample_002.png"]
        outs.append(np.asarray(Image.open(tmp_path / name / "sample_001.png")))
    assert outs[0].shape == (32, 32, 3) and np.array_equal(outs[0], outs[1])
    code, text = run(monkeypatch, capsys, "sample", "--model", "cat", "-o", tmp_path / "c")
    assert code == 2 and "is a pix2pix model" in text and "dcgan" in text  # the bundled cat model draws from sketches


def test_a_mistyped_command_gets_a_usage_error_not_a_traceback(monkeypatch, capsys):
    code, out = run(monkeypatch, capsys, "list")
    assert code == 2
    assert "No such command 'list'" in out and "Traceback" not in out
    code, out = run(monkeypatch, capsys, "generate", "--no-such-option")
    assert code == 2 and "No such option" in out and "Traceback" not in out


def _tiny_recognizer(folder, labels=("cat", "shoe", "sun")):
    import torch

    from icanvas.checkpoint import save_pretrained
    from icanvas.config import RecognizerConfig
    from icanvas.models.recognizer import SketchClassifier

    torch.manual_seed(0)
    cfg = RecognizerConfig(channels=(8, 16), convs_per_stage=1, num_classes=len(labels))
    return save_pretrained(SketchClassifier(cfg), folder, method="recognizer", config=cfg, meta={"labels": list(labels)})


def _drawing(path, radius=60):
    import cv2
    import numpy as np

    page = np.full((256, 256), 255, np.uint8)
    cv2.circle(page, (128, 128), radius, 0, 4)
    cv2.imwrite(str(path), page)
    return path


def test_recognize_prints_top_guesses_and_reports_a_bad_file(monkeypatch, capsys, tmp_path):
    import json

    model = _tiny_recognizer(tmp_path / "rec")
    a, b = _drawing(tmp_path / "a.png"), _drawing(tmp_path / "b.png", 100)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, text = run(monkeypatch, capsys, "recognize", a, bad, b, "--model", model, "--top", "2")
    assert code == 2 and "bad.png" in text and "Traceback" not in text  # the bad file is named, the others still guessed
    lines = [line for line in text.splitlines() if line.startswith(str(tmp_path)) and "bad.png" not in line]
    assert [line.split(":")[0] for line in lines] == [str(a), str(b)]
    for line in lines:
        guesses = line.split(": ", 1)[1].split(", ")
        assert len(guesses) == 2 and all(g.split()[0] in ("cat", "shoe", "sun") for g in guesses)
        probs = [float(g.split()[1]) for g in guesses]
        assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs)
    code, text = run(monkeypatch, capsys, "recognize", a, "--model", model, "--json", "--top", "3")
    assert code == 0
    record = json.loads(text.strip().splitlines()[-1])
    assert record["drawing"] == str(a) and [g["label"] for g in record["guesses"]] != []
    probs = [g["prob"] for g in record["guesses"]]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True) and abs(sum(probs) - 1.0) < 1e-3


def test_recognize_bad_top_and_missing_model(monkeypatch, capsys, tmp_path):
    drawing = _drawing(tmp_path / "a.png")
    code, text = run(monkeypatch, capsys, "recognize", drawing, "--model", "no-such-model")
    assert code == 2 and "no-such-model" in text
    code, text = run(monkeypatch, capsys, "recognize", drawing, "--model", _tiny_recognizer(tmp_path / "rec"), "--top", "0")
    assert code == 2 and "--top" in text


def test_doodles_reports_a_folder_without_pairs(monkeypatch, capsys, tmp_path):
    code, text = run(monkeypatch, capsys, "doodles", tmp_path / "nothing", "--label", "shoe", "--out", tmp_path / "out")
    assert code == 2 and "does not exist" in text and "Traceback" not in text
    code, text = run(monkeypatch, capsys, "doodles", tmp_path, "--label", "shoe", "--mask", "magic", "--out", tmp_path / "out")
    assert code == 2 and "--mask" in text
