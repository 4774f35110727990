"""Loading models at start: every pix2pix model in the model path serves its kinds, the recognizer
is found by name, dcgan models make surprise pictures, broken folders are skipped."""

from __future__ import annotations

import torch

from icanvas.checkpoint import save_pretrained
import numpy as np

from icanvas.config import DCGANGeneratorConfig, RecognizerConfig, UNetConfig
from icanvas.models.dcgan import DCGANGenerator
from icanvas.models.recognizer import SketchClassifier
from icanvas.models.unet import UNetGenerator
from icanvas.serve.app import create_app
from icanvas.serve.kinds import load_pipelines, load_sampler
from tests.serve.conftest import Api, TestClient, decode_png, drawing_png


def _models(root):
    torch.manual_seed(0)
    plain = UNetConfig(image_size=32, ngf=4, max_channels=8, dropout=0.0)
    save_pretrained(UNetGenerator(plain), root / "panda-model", method="pix2pix", config=plain, meta={"kinds": ["panda"]})
    save_pretrained(UNetGenerator(plain), root / "mystery", method="pix2pix", config=plain)
    pets = UNetConfig(image_size=32, ngf=4, max_channels=8, dropout=0.0, num_classes=2)
    save_pretrained(UNetGenerator(pets), root / "pets", method="pix2pix", config=pets, meta={"kinds": ["cat", "panda"]})
    rec = RecognizerConfig(channels=(8, 16), convs_per_stage=1, num_classes=3)
    save_pretrained(SketchClassifier(rec), root / "recognizer", method="recognizer", config=rec, meta={"labels": ["cat", "sun", "tree"]})
    dots = DCGANGeneratorConfig(image_size=16, latent_dim=4, ngf=2, max_channels=4)
    save_pretrained(DCGANGenerator(dots), root / "stars", method="dcgan", config=dots, meta={"kinds": ["star"]})
    save_pretrained(DCGANGenerator(dots), root / "moons", method="dcgan", config=dots, meta={"kinds": ["moon"]})
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{not json")
    return root


def test_load_pipelines_serves_each_kind_once(tmp_path, monkeypatch):
    monkeypatch.delenv("ICANVAS_MODEL_PATH", raising=False)
    pipelines = load_pipelines([_models(tmp_path / "models")], backend="torch")
    assert set(pipelines) >= {"panda", "mystery", "cat"}
    pipe, label = pipelines["panda"]
    assert label is None and pipe.info.path.name == "panda-model"  # first folder found wins
    cat_pipe, cat_label = pipelines["cat"]
    assert cat_label == "cat" and cat_pipe.info.path.name == "pets"  # class-conditional: one kind label each
    assert pipelines["mystery"][1] is None  # no kinds in its config: the folder name
    names = [k for k in pipelines if k in ("cat", "panda", "mystery")]
    assert names == ["cat", "panda", "mystery"]  # the studio's kind order, not folder order; unknown kinds last


def test_app_without_given_models_loads_them_from_the_model_path(tmp_path, monkeypatch, settings):
    monkeypatch.delenv("ICANVAS_MODEL_PATH", raising=False)
    models = _models(tmp_path / "models")
    app = create_app(settings.model_copy(update={"model_path": str(models), "model_backend": "torch"}))
    with TestClient(app) as client:
        api = Api(client)
        studio = api.get("/api/studio").json()
        kinds = {k["kind"]: k for k in studio["kinds"]}
        assert {"panda", "mystery", "cat"} <= set(kinds)
        assert kinds["panda"]["label"]["ko"] == "판다" and kinds["mystery"]["label"] == {"ko": "mystery", "en": "mystery"}
        assert studio["recognizer"] is True
        r = api.generate(kind="cat")
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
        r = api.post("/api/recognize", files={"drawing": ("d.png", drawing_png(), "image/png")})
        guesses = r.json()["guesses"]
        assert len(guesses) == 3 and {g["label"] for g in guesses} == {"cat", "sun", "tree"}
        assert next(g for g in guesses if g["label"] == "cat")["kind"] == "cat"


def test_serve_command_runs_uvicorn_with_the_app(tmp_path, monkeypatch, capsys):
    import sys

    import uvicorn
    from fastapi import FastAPI

    from icanvas.cli import main

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(sys, "argv", ["icanvas", "serve", "--port", "8766", "--data-dir", str(tmp_path / "d")])
    main()
    assert "http://127.0.0.1:8766" in capsys.readouterr().out
    (app, kw), = calls
    assert isinstance(app, FastAPI) and kw["host"] == "127.0.0.1" and kw["port"] == 8766
    from icanvas.serve.http import GuardedH11Protocol

    assert issubclass(kw["http"], GuardedH11Protocol) and kw["proxy_headers"] is False  # the studio's guards are on
    monkeypatch.setattr(sys, "argv", ["icanvas", "serve", "--port", "0"])
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code
    assert code == 2 and "port" in capsys.readouterr().err


def test_load_sampler_uses_every_dcgan_model(tmp_path, monkeypatch):
    monkeypatch.delenv("ICANVAS_MODEL_PATH", raising=False)
    sampler = load_sampler([_models(tmp_path / "models")])
    assert {"star", "moon"} <= set(sampler.kinds)
    assert "cat" not in sampler.kinds  # sketch models make no surprises
    pic = sampler("star")
    assert pic.shape == (256, 256, 3) and pic.dtype == np.uint8  # small generators are enlarged for the page
    assert not np.array_equal(pic, sampler("star"))  # a fresh picture each time
    empty = load_sampler([tmp_path / "nothing-here"])
    assert empty is None or "star" not in empty.kinds  # only bundled models, if any, remain


def test_app_serves_surprises_from_the_model_path(tmp_path, monkeypatch, settings):
    monkeypatch.delenv("ICANVAS_MODEL_PATH", raising=False)
    app = create_app(settings.model_copy(update={"model_path": str(_models(tmp_path / "models")), "model_backend": "torch"}))
    with TestClient(app) as client:
        studio = client.get("/api/studio").json()
        assert studio["surprise"] is True and {"star", "moon"} <= set(studio["surprise_kinds"])
        r = client.get("/api/surprise", params={"kind": "moon"})
        assert r.status_code == 200 and decode_png(r.content).shape == (256, 256, 3)
        r = client.get("/api/surprise", params={"kind": "dragon"})
        assert r.status_code == 422 and "moon" in r.json()["detail"]["hint"]
