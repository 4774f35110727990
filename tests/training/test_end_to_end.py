"""prepare -> train -> resume -> export -> generate -> evaluate, on synthetic data with the tiny preset."""

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from icanvas.checkpoint import from_pretrained
from tests.cli_run import run_cli
from icanvas.config import load_train_config
from icanvas.training.loop import run_training

TINY = ["run.steps=6", "run.checkpoint_every=3", "run.sample_every=3", "run.log_every=1", "run.threads=1"]


@pytest.fixture(scope="module")
def trained(prepared_dir, tmp_path_factory):
    cfg = load_train_config("tiny", TINY)
    root = tmp_path_factory.mktemp("runs")
    straight = run_training(cfg, [prepared_dir], root / "straight")
    return cfg, straight, root


def test_run_folder_contents(trained):
    _, res, _ = trained
    run = res.run_dir
    assert (run / "config.yaml").is_file() and (run / "model" / "card.md").is_file()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(r["loss_g"]) and np.isfinite(r["loss_d"]) for r in rows)
    assert rows[-1]["lr"] < rows[0]["lr"]  # linear decay in the second half
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000003.png", "step_0000006.png"]
    assert any((run / "tb").iterdir())
    card = (run / "model" / "card.md").read_text()
    assert "synthetic" in card and "Steps: 6" in card


def test_resume_continues_exactly(trained, prepared_dir):
    cfg, straight, root = trained
    part = run_training(cfg, [prepared_dir], root / "resumed", stop_at=3, command="icanvas train --first")
    assert part.steps == 3 and not (root / "resumed" / "model").exists()
    with pytest.raises(Exception, match="--resume"):
        run_training(cfg, [prepared_dir], root / "resumed")
    full = run_training(cfg, [prepared_dir], root / "resumed", resume=True, command="icanvas train --again")
    card = (full.model_dir / "card.md").read_text()  # the card tells the whole run, not just the last part
    assert "Command: `icanvas train --first`" in card and "Continued with: `icanvas train --again`" in card
    assert "in 2 invocations" in card
    a, _ = from_pretrained(straight.model_dir)
    b, _ = from_pretrained(full.model_dir)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name


def test_export_generate_evaluate(trained, prepared_dir, tmp_path, monkeypatch, capsys):
    _, res, _ = trained
    model = res.model_dir
    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    code, text = run_cli(monkeypatch, capsys, "export", "--model", model, "--onnx", tmp_path / "g.onnx")
    assert code == 0, text
    diff = float(text.split("pytorch| =")[1].split()[0])
    assert diff <= 1e-4
    code, text = run_cli(monkeypatch, capsys, "export", "--model", model, "--folder", tmp_path / "shipped")
    assert code == 0, text
    shipped, _ = from_pretrained(tmp_path / "shipped")
    original, _ = from_pretrained(model)
    for (name, a), b in zip(original.state_dict().items(), shipped.state_dict().values()):
        assert torch.allclose(a, b, atol=2e-3, rtol=2e-3), name  # fp16 storage
    assert (tmp_path / "shipped" / "card.md").read_text() == (model / "card.md").read_text()
    code, text = run_cli(monkeypatch, capsys, "export", "--model", model)
    assert code == 2 and "--onnx" in text

    # a wide dark-on-light PNG, a light-on-dark JPEG and a transparent WebP
    page = np.full((120, 200, 3), 255, np.uint8)
    cv2.circle(page, (100, 60), 40, (0, 0, 0), 3)
    Image.fromarray(page).save(tmp_path / "a.png")
    Image.fromarray(255 - page).save(tmp_path / "b.jpg", quality=95)
    rgba = np.zeros((90, 60, 4), np.uint8)
    cv2.rectangle(rgba, (10, 10), (50, 80), (0, 0, 0, 255), 3)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "c.webp", lossless=True)
    code, text = run_cli(monkeypatch, capsys, "generate", "--model", model, tmp_path / "a.png", tmp_path / "b.jpg",
                         tmp_path / "c.webp", "-o", tmp_path / "out")
    assert code == 0, text
    for name, shape in (("a", (120, 200)), ("b", (120, 200)), ("c", (90, 60))):
        out = np.asarray(Image.open(tmp_path / "out" / f"{name}.png"))
        assert out.shape == (*shape, 3)
    assert "inverted" in text

    code, text = run_cli(monkeypatch, capsys, "evaluate", "--model", model, "--data", prepared_dir, "--out", tmp_path / "report")
    assert code == 0, text
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    for key in ("l1", "psnr", "ssim", "swd", "adherence_f1"):
        assert np.isfinite(metrics[key]), key
    assert metrics["count"] == 3
    assert (tmp_path / "report" / "grid.png").is_file() and "grid.png" in (tmp_path / "report" / "index.html").read_text()


def test_onnx_and_torch_backends_agree(trained):
    from icanvas.pipelines.sketch_to_image import SketchToImage

    _, res, _ = trained
    page = np.full((64, 64, 3), 255, np.uint8)
    cv2.line(page, (10, 10), (50, 50), (0, 0, 0), 2)
    img = Image.fromarray(page)
    a = SketchToImage.from_pretrained(res.model_dir, backend="torch")(img).image.astype(int)
    b = SketchToImage.from_pretrained(res.model_dir, backend="onnx")(img).image.astype(int)
    assert np.abs(a - b).max() <= 1


def test_evaluate_on_human_strokes(trained, prepared_dir, tmp_path, monkeypatch, capsys):
    """Stroke drawings are drawn with the studio's pen, run through the pipeline and scored."""
    _, res, _ = trained
    rng = np.random.default_rng(0)
    records = []
    for i in range(4):  # wobbly closed loops of different sizes, in Quick, Draw! 0..255 coordinates
        t = np.linspace(0, 2 * np.pi, 24)
        r = 60 + 40 * i / 3 + rng.normal(0, 4, t.size)
        xs, ys = (128 + r * np.cos(t)).round().tolist(), (128 + r * np.sin(t)).round().tolist()
        records.append(json.dumps({"word": "blob", "drawing": [[xs, ys], [[100, 150], [120, 120]]]}))
    (tmp_path / "strokes").mkdir()
    (tmp_path / "strokes" / "blob.ndjson").write_text("\n".join(records) + "\n")
    monkeypatch.setenv("ICANVAS_CACHE", str(tmp_path / "cache"))
    code, text = run_cli(monkeypatch, capsys, "evaluate", "--model", res.model_dir, "--human-sketches", tmp_path / "strokes",
                         "--kind", "blob", "--real-photos", prepared_dir, "--out", tmp_path / "human")
    assert code == 0, text
    metrics = json.loads((tmp_path / "human" / "metrics.json").read_text())
    assert metrics["count"] == 4 and metrics["source"].endswith("blob.ndjson")
    assert np.isfinite(metrics["swd"]) and 0.0 <= metrics["adherence_f1"] <= 1.0
    assert "l1" not in metrics  # people's drawings have no target photo

    code, text = run_cli(monkeypatch, capsys, "evaluate", "--model", res.model_dir, "--human-sketches", tmp_path / "strokes",
                         "--kind", "shoe", "--out", tmp_path / "missing")
    assert code == 2 and "shoe.ndjson" in text
