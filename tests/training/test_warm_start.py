"""run.init_from: a new run starting from another run's weights, kind tables picked by name."""

import pytest
import torch

from icanvas.config import load_train_config
from icanvas.data.prepare import PrepareOptions, prepare_dataset
from icanvas.errors import ConfigError
from icanvas.training.loop import run_training
from icanvas.training.pix2pix import Pix2PixTrainer
from icanvas.training.warm_start import read_start_point

FAST = ["run.steps=2", "run.sample_every=0", "run.log_every=1", "run.threads=1"]
KINDED = ["generator.class_film=true", "discriminator.kind_input=true"]


@pytest.fixture(scope="module")
def two_kind_run(shapes_dir, prepared_dir, tmp_path_factory):
    """A finished 2-kind run ("shape", "blob") and the folder of its "blob" pairs."""
    blob = tmp_path_factory.mktemp("blob")
    prepare_dataset(shapes_dir, blob, PrepareOptions(size=32, val_fraction=0.25, kind="blob", data_terms="synthetic"), workers=1, progress=False)
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[shape, blob]", "generator.num_classes=2"])
    run = tmp_path_factory.mktemp("joint") / "run"
    run_training(cfg, [prepared_dir, blob], run)
    return run, blob


def test_one_kind_run_starts_from_that_kinds_rows(two_kind_run):
    run, _ = two_kind_run
    start = read_start_point(run)
    assert start.kinds == ["shape", "blob"] and start.step == 2
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", "run.seed=7"])
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    trainer.warm_start(start.trainer, start.kinds)
    g_src, g = start.trainer["generator"], trainer.generator.state_dict()
    assert torch.equal(g["class_embed.weight"][0], g_src["class_embed.weight"][1])
    film = [k for k in g if k.startswith("film.")]
    assert film and all(torch.equal(g[k][0], g_src[k][1]) for k in film)
    shared = [k for k in g if k != "class_embed.weight" and k not in film]
    assert all(torch.equal(g[k], g_src[k]) for k in shared)
    d_src, d = start.trainer["discriminator"], trainer.D.state_dict()
    first = next(k for k, v in d.items() if v.ndim == 4)
    base = d[first].shape[1] - 1  # sketch + photo channels, then one kind plane
    assert d_src[first].shape[1] == base + 2
    assert torch.equal(d[first][:, :base], d_src[first][:, :base])
    assert torch.equal(d[first][:, base], d_src[first][:, base + 1])  # the plane of "blob"


def test_init_from_run_writes_where_it_started_on_the_card(two_kind_run, tmp_path):
    run, blob = two_kind_run
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", f"run.init_from={run}"])
    res = run_training(cfg, [blob], tmp_path / "fine", command="icanvas train fine")
    card = (res.model_dir / "card.md").read_text()
    assert "Started from the weights of" in card and "at step 2" in card
    # --resume keeps the origin line, and does not load init_from over its own checkpoint
    cfg4 = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", f"run.init_from={run}",
                                                     "run.steps=3"])
    res = run_training(cfg4, [blob], tmp_path / "fine", resume=True)
    assert "Started from the weights of" in (res.model_dir / "card.md").read_text()


def test_init_from_a_model_folder_takes_its_generator_and_a_fresh_discriminator(two_kind_run, tmp_path):
    run, blob = two_kind_run
    start = read_start_point(run / "model")  # what a bundled model folder holds: config.json + generator.safetensors
    assert start.model_only and set(start.trainer) == {"generator"} and start.kinds == ["shape", "blob"]
    from_run = read_start_point(run).trainer
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1"])
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    trainer.warm_start(start.trainer, start.kinds)
    g, g_src = trainer.G.state_dict(), start.trainer["generator"]
    assert torch.equal(g["class_embed.weight"][0], g_src["class_embed.weight"][1])
    assert all(torch.equal(g[k], g_src[k]) for k in g if k != "class_embed.weight" and not k.startswith("film."))
    assert all(torch.equal(v, d_before[k]) for k, v in trainer.D.state_dict().items())  # D untouched
    assert not torch.equal(trainer.D.state_dict()[next(iter(d_before))], from_run["discriminator"][next(iter(d_before))])
    res = run_training(load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1",
                                                                 f"run.init_from={run / 'model'}"]), [blob], tmp_path / "fine")
    assert "the model folder" in (res.model_dir / "card.md").read_text()


def test_a_model_without_crayons_starts_a_model_with_them(two_kind_run):
    """Colour-hint inputs added to a model folder without them start at zero: the same pictures until trained."""
    run, _ = two_kind_run
    start = read_start_point(run / "model")
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", "generator.hint_channels=4",
                                                     "hints.enabled=true"])
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    trainer.warm_start(start.trainer, start.kinds)
    first = next(k for k, v in trainer.G.state_dict().items() if v.ndim == 4)
    w, w_src = trainer.G.state_dict()[first], start.trainer["generator"][first]
    assert w.shape[1] == w_src.shape[1] + 4 and torch.equal(w[:, : w_src.shape[1]], w_src) and not w[:, w_src.shape[1]:].any()
    from icanvas.checkpoint import from_pretrained

    source, _ = from_pretrained(run / "model")
    trainer.G.eval()
    x, kind = torch.rand(2, 1, 32, 32) * 2 - 1, torch.tensor([0, 0])
    with torch.no_grad():
        assert torch.allclose(trainer.G(torch.cat([x, torch.zeros(2, 4, 32, 32)], 1), kind), source(x, torch.tensor([1, 1])), atol=1e-5)
    fewer = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", "generator.in_channels=2"])
    with pytest.raises(ConfigError, match="in the source and"):  # only hint channels may be added, never other inputs removed
        Pix2PixTrainer(fewer, torch.device("cpu")).warm_start(start.trainer, start.kinds)


def test_a_new_kind_starts_from_another_kind_of_the_source(two_kind_run, shapes_dir, tmp_path):
    """run.init_kinds=[cat=blob]: a kind the source never drew starts from what it learnt for another."""
    run, _ = two_kind_run
    start = read_start_point(run)
    cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[cat]", "generator.num_classes=1", "run.init_kinds=[cat=blob]"])
    trainer = Pix2PixTrainer(cfg, torch.device("cpu"))
    trainer.warm_start(start.trainer, start.kinds)
    assert torch.equal(trainer.G.state_dict()["class_embed.weight"][0], start.trainer["generator"]["class_embed.weight"][1])
    cat = tmp_path / "cat"
    prepare_dataset(shapes_dir, cat, PrepareOptions(size=32, val_fraction=0.25, kind="cat", data_terms="synthetic"), workers=1, progress=False)
    res = run_training(load_train_config("tiny", FAST + KINDED + ["data.kinds=[cat]", "generator.num_classes=1",
                                                                 "run.init_kinds=[cat=blob]", f"run.init_from={run / 'model'}"]),
                       [cat], tmp_path / "run")
    assert "its blob for cat" in (res.model_dir / "card.md").read_text()
    with pytest.raises(ConfigError, match="run.init_kinds=\\[cat=KIND\\]"):
        Pix2PixTrainer(load_train_config("tiny", FAST + KINDED + ["data.kinds=[cat]", "generator.num_classes=1"]),
                       torch.device("cpu")).warm_start(start.trainer, start.kinds)
    with pytest.raises(ConfigError, match="new=source"):
        load_train_config("tiny", ["run.init_kinds=[cat]"])


def test_init_from_errors_say_what_is_wrong(two_kind_run, tmp_path):
    run, blob = two_kind_run
    with pytest.raises(ConfigError, match="does not draw cat"):
        cfg = load_train_config("tiny", FAST + KINDED + ["data.kinds=[cat]", "generator.num_classes=1"])
        Pix2PixTrainer(cfg, torch.device("cpu")).warm_start(read_start_point(run).trainer, ["shape", "blob"])
    with pytest.raises(ConfigError, match="holds no train_state.pt and is not a model folder"):
        read_start_point(tmp_path)
    wider = load_train_config("tiny", FAST + KINDED + ["data.kinds=[blob]", "generator.num_classes=1", "generator.ngf=8",
                                                      f"run.init_from={run}"])
    with pytest.raises(ConfigError, match="in the source and"):
        run_training(wider, [blob], tmp_path / "wider")
