"""The Stable Diffusion restyler and LoRA character learning on a tiny random model, on the CPU, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")  # a guard only: scripts/setup.sh installs icanvas[diffusion], so this runs in CI

import torch  # noqa: E402
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline, UNet2DConditionModel  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402

from icanvas.errors import ConfigError, DatasetError, InputImageError, MissingResourceError  # noqa: E402
from icanvas.portrait.diffusion import CHARACTER_FILE, LORA_WEIGHTS, DiffusionRestyler  # noqa: E402
from icanvas.training.dreambooth_lora import learn_lora  # noqa: E402

SIZE = 16  # working size of the tiny model, px (latents 8 x 8)
FAST = dict(size=SIZE, steps=4, strength=0.5, device="cpu")  # 2 denoising steps


def _tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP tokenizer over printable ASCII, one token per character (no merges)."""
    folder.mkdir()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in map(chr, range(33, 127)):
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer.from_pretrained(folder, model_max_length=16, local_files_only=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A randomly initialised Stable Diffusion folder in the diffusers layout, a few hundred kB."""
    root = tmp_path_factory.mktemp("sd")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=SIZE // 2, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, attention_head_dim=4, norm_num_groups=4,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4, layers_per_block=1, sample_size=SIZE,
    )
    tokenizer = _tokenizer(root / "vocab")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1, projection_dim=16,
    ))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                          safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(root / "model")
    return root / "model"


@pytest.fixture(scope="module")
def restyler(tiny_model) -> DiffusionRestyler:
    return DiffusionRestyler(tiny_model, seed=1, **FAST)


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth random colour picture, (h, w, 3) uint8."""
    small = np.random.default_rng(seed).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))


def test_restyle_keeps_the_crop_shape(restyler):
    crop = _photo(37, 22, seed=0)  # tall crop: worked on at 16 x 8 (long side 16, short side a multiple of 8)
    out = restyler.restyle(crop, np.ones(crop.shape[:2], np.float32), None)
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert not np.array_equal(out, crop)


def test_same_seed_same_picture_other_seed_other_picture(restyler, tiny_model):
    crop = _photo(24, 24, seed=1)
    first = restyler.restyle(crop, np.ones((24, 24), np.float32), None)
    np.testing.assert_array_equal(first, restyler.restyle(crop, np.ones((24, 24), np.float32), None))
    other = DiffusionRestyler(tiny_model, seed=2, **FAST).restyle(crop, np.ones((24, 24), np.float32), None)
    assert not np.array_equal(first, other)


def test_bad_crop_and_options_are_typed_errors(restyler, tiny_model):
    with pytest.raises(InputImageError):
        restyler.restyle(np.zeros((8, 8), np.uint8), np.ones((8, 8), np.float32), None)
    with pytest.raises(ConfigError, match="multiple of 8"):
        DiffusionRestyler(tiny_model, size=20, device="cpu")
    with pytest.raises(ConfigError, match="denoising step"):
        DiffusionRestyler(tiny_model, steps=2, strength=0.3, device="cpu")


def test_missing_or_incomplete_model_folder(tmp_path):
    with pytest.raises(MissingResourceError, match="does not exist"):
        DiffusionRestyler(tmp_path / "nowhere")
    (tmp_path / "half" / "unet").mkdir(parents=True)
    (tmp_path / "half" / "unet" / "config.json").write_text("{}")
    with pytest.raises(MissingResourceError, match="model_index.json") as err:
        DiffusionRestyler(tmp_path / "half")
    assert "vae/config.json" in str(err.value) and "unet/config.json" not in str(err.value)


def test_missing_extra_names_the_install_command(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers now raises ImportError
    with pytest.raises(MissingResourceError, match=r"pip install 'icanvas\[diffusion\]'"):
        DiffusionRestyler(tiny_model, device="cpu")


def test_lora_folder_without_weights(tiny_model, tmp_path):
    with pytest.raises(MissingResourceError, match=LORA_WEIGHTS):
        DiffusionRestyler(tiny_model, lora=tmp_path, device="cpu")


def _pictures(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        Image.fromarray(_photo(20 + 3 * i, 24, seed=10 + i)).save(folder / f"pic{i}.png")
    return folder


def test_learn_lora_two_steps_changes_the_restyle(tiny_model, restyler, tmp_path):
    pictures = _pictures(tmp_path / "mimi", 4)
    seen: list[tuple[int, int, float]] = []
    result = learn_lora(pictures, "Mimi", tiny_model, tmp_path / "out", steps=2, rank=4, lr=0.05, resolution=SIZE, seed=0,
                        device="cpu", progress_callback=lambda step, total, loss: seen.append((step, total, loss)))
    assert result.steps == 2 and result.images == 4 and np.isfinite(result.loss)
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]
    character = json.loads((tmp_path / "out" / CHARACTER_FILE).read_text())
    assert character["name"] == "Mimi" and character["method"] == "dreambooth-lora" and character["trigger"]
    assert Path(character["base_model"]) == tiny_model.resolve()
    card = (tmp_path / "out" / "card.md").read_text()
    assert "the pictures you supplied" in card and "4 pictures" in card and str(tiny_model.resolve()) in card

    crop = _photo(24, 24, seed=3)
    mask = np.ones((24, 24), np.float32)
    prompt = character["trigger"]  # the same prompt with and without the character: only the adapters differ
    plain = DiffusionRestyler(tiny_model, prompt=prompt, seed=1, **FAST).restyle(crop, mask, None)
    learned = DiffusionRestyler(tiny_model, prompt=prompt, seed=1, lora=tmp_path / "out", **FAST)
    assert not np.array_equal(learned.restyle(crop, mask, None), plain)
    off = DiffusionRestyler(tiny_model, prompt=prompt, seed=1, lora=tmp_path / "out", lora_scale=0.0, **FAST)
    np.testing.assert_array_equal(off.restyle(crop, mask, None), plain)
    assert DiffusionRestyler(tiny_model, lora=tmp_path / "out", **FAST).prompt.startswith(character["trigger"])


def test_learn_lora_refuses_bad_picture_folders(tiny_model, tmp_path):
    with pytest.raises(DatasetError, match="3 to 50"):
        learn_lora(_pictures(tmp_path / "two", 2), "x", tiny_model, tmp_path / "out", steps=1, resolution=SIZE, device="cpu")
    broken = _pictures(tmp_path / "broken", 3)
    (broken / "pic1.png").write_bytes(b"not a picture")
    with pytest.raises(InputImageError, match="pic1.png"):
        learn_lora(broken, "x", tiny_model, tmp_path / "out", steps=1, resolution=SIZE, device="cpu")
    with pytest.raises(MissingResourceError):
        learn_lora(_pictures(tmp_path / "fine", 3), "x", tmp_path / "no-model", tmp_path / "out", steps=1, resolution=SIZE)
    assert not (tmp_path / "out").exists()
