"""Learn a character from a few pictures: DreamBooth-style LoRA on a local Stable Diffusion model.

8-10 pictures of one character teach low-rank adapters (LoRA, Hu et al. 2021) on the attention
projections of the UNet (``to_q``, ``to_k``, ``to_v``, ``to_out.0``) to draw it whenever a
prompt holds the trigger words (DreamBooth, Ruiz et al. 2022): each step takes a strongly
augmented picture (random resized crop, flip, colour jitter), noises its VAE latents at a random
timestep of the model's own noise schedule, and fits the UNet's prediction (noise or velocity,
as the model was trained) with a mean squared error. The VAE, the text encoder and the UNet's
own weights stay frozen. Needs the extra ``pip install 'icanvas[diffusion]'``; nothing is
downloaded.

The folder written to ``out_dir`` is what :class:`~icanvas.portrait.diffusion.DiffusionRestyler`
takes as ``lora=``::

    out_dir/pytorch_lora_weights.safetensors   the adapters, in the diffusers LoRA format (load_lora_weights)
    out_dir/character.json                     name, method "dreambooth-lora", base model, trigger prompt, training
    out_dir/card.md                            what it was learned from, how long, how to use it

The command ``icanvas characters learn IMAGES_DIR --name NAME --method dreambooth-lora
--base-model PATH`` calls::

    from icanvas.training.dreambooth_lora import learn_lora
    result = learn_lora(images_dir, name, base_model, out_dir, steps=800, rank=8, lr=1e-4,
                        resolution=512, instance_prompt=None, seed=0, device=None,
                        progress_callback=lambda step, total, loss: bar.update(1))
    # result.folder, result.steps, result.seconds, result.images, result.loss

On a GPU with bfloat16 the frozen weights run in bfloat16 and the adapters train in float32.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from icanvas import __version__
from icanvas.checkpoint import write_text_atomic
from icanvas.data.datasets import IMAGE_SUFFIXES
from icanvas.data.images import read_image, resize, to_rgb
from icanvas.errors import CheckpointError, ConfigError, DatasetError
from icanvas.portrait.diffusion import CHARACTER_FILE, LORA_WEIGHTS, check_model_folder, pick_device, require_diffusers

METHOD = "dreambooth-lora"  # the method name character.json and the CLI use
FORMAT_VERSION = 1  # of character.json
MIN_IMAGES = 3  # fewer pictures than this cannot show a character from enough sides
MAX_IMAGES = 50  # more than this is a data set, not a character; use a real fine-tune
DEFAULT_PROMPT = "a picture of sks character"  # trigger prompt; "sks" is a rare token the base model knows nothing about
TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0"]  # the UNet's attention projections that get adapters
GRAD_CLIP = 1.0  # max global norm of the adapters' gradient; 0 = no clipping
WEIGHT_DECAY = 1e-2  # AdamW weight decay of the adapters
# --- augmentation (per picture, per step)
CROP_AREA = (0.5, 1.0)  # random resized crop: share of the picture's area kept
CROP_RATIO = (3 / 4, 4 / 3)  # random resized crop: width / height of the cut
FLIP = 0.5  # probability of a horizontal flip
BRIGHTNESS = 0.15  # brightness factor drawn from 1 +- this
CONTRAST = 0.15  # contrast factor (around the mean grey) drawn from 1 +- this
SATURATION = 0.2  # saturation factor drawn from 1 +- this
HUE = 6.0  # hue shift drawn from +- this many degrees (small: hair and clothes colours are part of a character)

ProgressCallback = Callable[[int, int, float], None]  # (step done, steps in all, loss of that step)


@dataclass(frozen=True)
class LoraResult:
    folder: Path  # out_dir, holding the weights, character.json and card.md
    steps: int  # optimisation steps run
    seconds: float  # wall time of the training steps
    images: int  # pictures learned from
    loss: float  # mean loss of the last tenth of the steps


def read_pictures(images_dir: str | os.PathLike, side: int) -> list[np.ndarray]:
    """Every picture in ``images_dir`` (sub-folders too) as (H, W, 3) uint8 with the long side at most ``side``.

    DatasetError for a missing folder or too few / too many pictures; InputImageError (naming
    the file) for a picture that cannot be read.
    """
    folder = Path(images_dir).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"Picture folder {folder} does not exist.", "Pass the folder holding 8-10 pictures of the character.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not MIN_IMAGES <= len(files) <= MAX_IMAGES:
        raise DatasetError(f"{folder} holds {len(files)} pictures ({', '.join(IMAGE_SUFFIXES)}); a character is learned from "
                           f"{MIN_IMAGES} to {MAX_IMAGES}.", "Put 8-10 clear pictures of the character, from different sides, in the folder.")
    return [to_rgb(read_image(f, work_side=side)) for f in files]  # read_image names the file it cannot read


def augment(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) float32 in [-1, 1]: random resized crop, flip and colour jitter."""
    h, w = img.shape[:2]
    for _ in range(10):  # as torchvision's RandomResizedCrop: try a random cut, fall back to the centre square
        area = h * w * rng.uniform(*CROP_AREA)
        ratio = np.exp(rng.uniform(np.log(CROP_RATIO[0]), np.log(CROP_RATIO[1])))
        cw, ch = round(np.sqrt(area * ratio)), round(np.sqrt(area / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            break
    else:
        cw = ch = min(h, w)
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    cut = img[top : top + ch, left : left + cw]  # (ch, cw, 3) uint8
    if rng.random() < FLIP:
        cut = cut[:, ::-1]
    x = resize(np.ascontiguousarray(cut), size, size).astype(np.float32) / 255.0  # (size, size, 3) in [0, 1]
    hsv = cv2.cvtColor(x, cv2.COLOR_RGB2HSV)  # float32: H in degrees [0, 360), S and V in [0, 1]
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-HUE, HUE)) % 360.0
    hsv[..., 1] *= rng.uniform(1 - SATURATION, 1 + SATURATION)
    x = cv2.cvtColor(np.clip(hsv, 0, [360, 1, 1]).astype(np.float32), cv2.COLOR_HSV2RGB)
    x = x * rng.uniform(1 - BRIGHTNESS, 1 + BRIGHTNESS)
    x = (x - x.mean()) * rng.uniform(1 - CONTRAST, 1 + CONTRAST) + x.mean()
    return np.clip(x, 0.0, 1.0) * 2.0 - 1.0


def _check_options(name: str, steps: int, rank: int, lr: float, resolution: int, batch_size: int) -> None:
    hint = "Change that setting of `icanvas characters learn`."
    if not name.strip():
        raise ConfigError("The character needs a name.", "Pass --name NAME.")
    for key, value in (("steps", steps), ("rank", rank), ("batch_size", batch_size)):
        if value < 1:
            raise ConfigError(f"{key} must be >= 1, not {value}.", hint)
    if not lr > 0:
        raise ConfigError(f"lr must be > 0, not {lr}.", hint)
    if resolution < 8 or resolution % 8:
        raise ConfigError(f"resolution must be a positive multiple of 8 px, not {resolution}.", hint)


def learn_lora(
    images_dir: str | os.PathLike,
    name: str,
    base_model: str | os.PathLike,
    out_dir: str | os.PathLike,
    steps: int = 800,  # optimisation steps (about 80-100 per picture)
    rank: int = 8,  # LoRA rank: columns of the low-rank update of each projection (alpha = rank, so scale 1)
    lr: float = 1e-4,  # AdamW learning rate of the adapters
    resolution: int = 512,  # side of the square training crops, px, a multiple of 8 (512 for SD 1.x, 768 for SD 2.x)
    instance_prompt: str | None = None,  # trigger prompt the character is tied to; None = DEFAULT_PROMPT
    seed: int = 0,  # seeds the adapters' initialisation, the augmentation, the noise and the timesteps
    device: str | None = None,  # "cuda", "cpu", ...; None = CUDA when available, else the CPU
    progress_callback: ProgressCallback | None = None,  # called after every step with (step, steps, loss)
    batch_size: int = 1,  # pictures per step
) -> LoraResult:
    """Learn the character in ``images_dir`` as LoRA adapters of ``base_model``; see the module docstring."""
    _check_options(name, steps, rank, lr, resolution, batch_size)
    base = check_model_folder(base_model)
    pictures = read_pictures(images_dir, 2 * resolution)  # twice the crop side leaves detail for the random crops
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file, not a folder.", "Pass a folder for the learned character.")
    diffusers = require_diffusers()
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import CLIPTextModel, CLIPTokenizer

    dev = pick_device(device)
    dtype = torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32  # frozen weights
    try:
        tokenizer = CLIPTokenizer.from_pretrained(base, subfolder="tokenizer", local_files_only=True)
        text_encoder = CLIPTextModel.from_pretrained(base, subfolder="text_encoder", local_files_only=True)
        vae = diffusers.AutoencoderKL.from_pretrained(base, subfolder="vae", local_files_only=True)
        unet = diffusers.UNet2DConditionModel.from_pretrained(base, subfolder="unet", local_files_only=True)
        scheduler = diffusers.DDPMScheduler.from_pretrained(base, subfolder="scheduler", local_files_only=True)  # the model's noise schedule
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(f"The Stable Diffusion model in {base} cannot be loaded ({err}).",
                              "Check that the folder is complete (weights in unet/, vae/, text_encoder/) and not damaged.") from err
    prediction = scheduler.config.prediction_type
    if prediction not in ("epsilon", "v_prediction"):
        raise ConfigError(f"{base} predicts {prediction!r}; only 'epsilon' and 'v_prediction' models can be adapted.",
                          "Use a Stable Diffusion 1.x or 2.x model.")
    for module in (text_encoder, vae, unet):
        module.requires_grad_(False).to(dev, dtype)
    torch.manual_seed(seed)  # the adapters' random initialisation
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=TARGET_MODULES))
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()  # the adapters train in float32 whatever the frozen weights are in
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=WEIGHT_DECAY)
    prompt = instance_prompt or DEFAULT_PROMPT
    with torch.no_grad():
        ids = tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids.to(dev)  # (1, T)
        context = text_encoder(ids)[0].expand(batch_size, -1, -1)  # (B, T, D)
    rng = np.random.default_rng(seed)  # picks and augments the pictures
    gen = torch.Generator(device="cpu").manual_seed(seed)  # noise and timesteps, the same on every device
    scale = vae.config.scaling_factor
    autocast = torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32)
    losses: list[float] = []
    unet.train()
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch = np.stack([augment(pictures[i], resolution, rng) for i in rng.integers(0, len(pictures), batch_size)])  # (B, S, S, 3)
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(dev, dtype)  # (B, 3, S, S) in [-1, 1]
        with torch.no_grad():
            latents = vae.encode(x).latent_dist.sample(generator=gen) * scale  # (B, 4, S/8, S/8) for SD
        noise = torch.randn(latents.shape, generator=gen).to(dev, dtype)  # (B, 4, S/8, S/8)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch_size,), generator=gen).to(dev)  # (B,)
        noisy = scheduler.add_noise(latents, noise, t)
        target = noise if prediction == "epsilon" else scheduler.get_velocity(latents, noise, t)
        with autocast:
            pred = unet(noisy, t, encoder_hidden_states=context).sample  # (B, 4, S/8, S/8)
        loss = F.mse_loss(pred.float(), target.float())
        loss.backward()
        if GRAD_CLIP:
            torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if progress_callback is not None:
            progress_callback(step, steps, losses[-1])
    seconds = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    weights = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    diffusers.StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=weights, weight_name=LORA_WEIGHTS, safe_serialization=True)
    tail = losses[-max(1, steps // 10):]
    result = LoraResult(out, steps, seconds, len(pictures), float(np.mean(tail)))
    training = {"images": len(pictures), "steps": steps, "rank": rank, "lr": lr, "resolution": resolution,
                "batch_size": batch_size, "seed": seed, "device": dev.type, "seconds": round(seconds, 1), "final_loss": result.loss}
    character = {"format_version": FORMAT_VERSION, "name": name, "method": METHOD, "base_model": str(base.resolve()),
                 "trigger": prompt, "weights": LORA_WEIGHTS, "icanvas_version": __version__, "training": training}
    write_text_atomic(out / CHARACTER_FILE, json.dumps(character, indent=2) + "\n")
    write_text_atomic(out / "card.md", _card(name, base, prompt, Path(images_dir), training))
    return result


def _card(name: str, base: Path, prompt: str, images_dir: Path, t: dict) -> str:
    machine = f"{t['device']} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    return "\n".join([
        f"# {name}: a learned character", "",
        f"LoRA adapters ({METHOD}) of the Stable Diffusion model `{base.resolve()}`; they only work with that model.", "",
        "## Data",
        f"- {t['images']} pictures from `{images_dir}`",
        "- Terms: the pictures you supplied; you are responsible for having the right to use them.", "",
        "## Training",
        f"- {t['steps']} steps at batch {t['batch_size']}, {t['resolution']} px crops, rank {t['rank']}, learning rate {t['lr']}, seed {t['seed']}",
        "- Augmentation: random resized crop, horizontal flip, colour jitter",
        f"- Time: {t['seconds'] / 60:.1f} min on {machine}",
        f"- Final loss: {t['final_loss']:.4f} (noise-prediction MSE, mean of the last tenth of the steps)", "",
        "## Use",
        f"- Trigger prompt: `{prompt}`",
        f"- `DiffusionRestyler('{base}', lora='<this folder>')` (the trigger prompt is added to the default prompt)", "",
    ])
