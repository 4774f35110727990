"""`icanvas characters`: list, remove and the errors of learn, through the command line."""

import numpy as np
import torch
from PIL import Image

from icanvas.checkpoint import save_pretrained
from icanvas.config import load_train_config
from icanvas.models.translator import TranslatorGenerator
from tests.cli_run import run_cli as run


def test_list_remove_and_learn_errors(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ICANVAS_DATA_DIR", str(tmp_path / "home"))
    cfg = load_train_config("anime-tiny").generator
    torch.manual_seed(0)
    save_pretrained(TranslatorGenerator(cfg), tmp_path / "home" / "characters" / "pip", method="translation", config=cfg,
                    meta={"kinds": ["person"]})
    code, text = run(monkeypatch, capsys, "characters", "list")
    assert code == 0 and "pip" in text and "anime" in text and "cartoon" in text
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(8):
        Image.fromarray(np.full((40, 40, 3), 30 * i, np.uint8)).save(pics / f"{i}.png")
    code, text = run(monkeypatch, capsys, "characters", "learn", pics, "--name", "new-one")
    assert code == 2 and "--photos" in text and "Traceback" not in text
    code, text = run(monkeypatch, capsys, "characters", "learn", pics, "--name", "x", "--photos", pics, "--method", "magic")
    assert code == 2 and "dreambooth-lora" in text
    code, text = run(monkeypatch, capsys, "characters", "learn", pics, "--name", "x", "--method", "dreambooth-lora")
    assert code == 2 and "--base-model" in text
    code, text = run(monkeypatch, capsys, "characters", "remove", "pip")
    assert code == 0 and not (tmp_path / "home" / "characters" / "pip").exists()
    code, text = run(monkeypatch, capsys, "characters", "remove", "pip")
    assert code == 2 and "No learned character" in text
