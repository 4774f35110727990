"""Restyle with a local Stable Diffusion model: image-to-image, optionally with a learned character.

An optional backend of the restyle stage (:class:`~icanvas.portrait.stages.Restyler`) for people
who have a Stable Diffusion 1.x/2.x model as a diffusers folder (``model_index.json``, ``unet/``,
``vae/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``) and ideally a GPU. It needs the
extra ``pip install 'icanvas[diffusion]'`` (diffusers, transformers, peft). Nothing is ever
downloaded: the folder is read with ``local_files_only=True`` and the Hugging Face libraries run
offline (``HF_HUB_OFFLINE=1``). The safety checker is neither loaded nor required.

The crop of the person is resized to the working size (long side ``size`` px, both sides
multiples of 8), partly noised (``strength``), denoised towards the prompt and resized back to
the crop's size; the stylize pipeline pastes it back with the person's mask.

A character learned with :func:`icanvas.training.dreambooth_lora.learn_lora` is a folder with
``pytorch_lora_weights.safetensors`` and ``character.json``; pass it as ``lora=`` and the
default prompt starts with the character's trigger words::

    restyler = DiffusionRestyler("models/anything-v5", lora="characters/mimi", seed=3)
    cartoon = restyler.restyle(crop, mask, face)  # (H, W, 3) uint8, the crop's size
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from icanvas.data.images import resize
from icanvas.errors import CheckpointError, ConfigError, InputImageError, MissingResourceError

EXTRA = "pip install 'icanvas[diffusion]'"  # what installs the libraries this backend needs
DEFAULT_PROMPT = "anime style character, cel shading, clean line art, vibrant colors, high quality illustration"  # style the crop is pulled towards
DEFAULT_NEGATIVE = "photo, realistic, blurry, lowres, deformed, extra limbs, bad anatomy, text, watermark"  # what the guidance steers away from
LORA_WEIGHTS = "pytorch_lora_weights.safetensors"  # file name diffusers' save_lora_weights writes and load_lora_weights reads
CHARACTER_FILE = "character.json"  # a learned character's name, method, base model and trigger prompt
# The files that make a folder a Stable Diffusion model in the diffusers layout (weights are checked on load).
MODEL_FILES = ("model_index.json", "unet/config.json", "vae/config.json", "text_encoder/config.json",
               "tokenizer", "scheduler/scheduler_config.json")
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}  # never reach the network


def _no_torchvision_advice(record: logging.LogRecord) -> bool:
    """transformers suggests installing torchvision when it falls back to PIL image processors; this product never does."""
    return "requires torchvision" not in record.getMessage()


def require_diffusers() -> Any:
    """The ``diffusers`` module, imported offline; MissingResourceError when the extra is not installed."""
    os.environ.update(_OFFLINE_ENV)  # read by huggingface_hub when it is first imported
    logging.getLogger("transformers.utils.import_utils").addFilter(_no_torchvision_advice)  # adding twice keeps one
    try:
        import diffusers
        import peft  # noqa: F401  (load_lora_weights and LoRA training go through peft)
        import transformers  # noqa: F401
    except ImportError as err:
        raise MissingResourceError(
            f"The Stable Diffusion backend needs diffusers, transformers and peft, and {err.name or 'one of them'} is not installed.",
            hint=f"Install them with: {EXTRA}",
        ) from err
    return diffusers


def check_model_folder(folder: str | os.PathLike | None) -> Path:
    """``folder`` as a Path after checking it holds a diffusers Stable Diffusion model; MissingResourceError otherwise."""
    hint = ("Pass the local folder of a Stable Diffusion model in the diffusers layout (what `save_pretrained` writes). "
            "A single .safetensors/.ckpt checkpoint must first be converted with diffusers' "
            "scripts/convert_original_stable_diffusion_to_diffusers.py. Nothing is downloaded.")
    if folder is None or str(folder) == "":
        raise MissingResourceError("No Stable Diffusion model folder was given.", hint)
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise MissingResourceError(f"Stable Diffusion model folder {path} does not exist.", hint)
    missing = [name for name in MODEL_FILES if not (path / name).exists()]
    if missing:
        raise MissingResourceError(f"{path} is not a diffusers Stable Diffusion folder: it lacks {', '.join(missing)}.", hint)
    try:
        index = json.loads((path / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path / 'model_index.json'} cannot be read ({err}).", "The folder is damaged; copy it again.") from err
    if not isinstance(index, dict) or "text_encoder_2" in index or "unet" not in index:
        kind = index.get("_class_name", "another kind of model") if isinstance(index, dict) else "not a model index"
        raise ConfigError(f"{path} holds {kind}, not a Stable Diffusion 1.x/2.x model.",
                          "Use a Stable Diffusion 1.x or 2.x folder (SDXL and other families are not supported).")
    return path


def check_lora_folder(folder: str | os.PathLike) -> Path:
    """A learned character's folder after checking it holds LoRA weights; MissingResourceError otherwise."""
    path = Path(folder).expanduser()
    if not (path / LORA_WEIGHTS).is_file():
        raise MissingResourceError(
            f"{path} holds no learned character: {LORA_WEIGHTS} is missing.",
            hint="Pass a folder written by `icanvas characters learn ... --method dreambooth-lora`.",
        )
    return path


def read_character(folder: Path) -> dict[str, Any]:
    """``character.json`` of a learned character folder ({} when absent or unreadable)."""
    try:
        data = json.loads((folder / CHARACTER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pick_device(name: str | None) -> torch.device:
    """A torch device: ``None`` or "auto" = CUDA when available, else the CPU; ConfigError for CUDA without a GPU."""
    if name in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"Device {name!r} was asked for but no CUDA GPU is available.", "Use device='cpu' or leave it unset.")
    return device


def working_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the long side ``size`` px, the aspect ratio kept and both sides multiples of 8 (at least 8)."""
    scale = size / max(height, width)
    return max(8, round(height * scale / 8) * 8), max(8, round(width * scale / 8) * 8)


def _check_options(strength: float, steps: int, guidance: float, size: int, lora_scale: float) -> None:
    hint = "Change that setting of the Stable Diffusion restyler."
    if not 0.0 < strength <= 1.0:
        raise ConfigError(f"strength must be in (0, 1], not {strength}.", hint)
    if steps < 1 or int(steps * strength) < 1:
        raise ConfigError(f"steps * strength must give at least one denoising step (steps={steps}, strength={strength}).", hint)
    if guidance < 0:
        raise ConfigError(f"guidance must be >= 0, not {guidance}.", hint)
    if size < 8 or size % 8:
        raise ConfigError(f"size must be a positive multiple of 8 px, not {size}.", hint)
    if lora_scale < 0:
        raise ConfigError(f"lora_scale must be >= 0, not {lora_scale}.", hint)


class DiffusionRestyler:
    """Stable Diffusion image-to-image restyler (see the module docstring).

    The pipeline is loaded once, here; :meth:`restyle` may then be called for many crops.
    """

    name = "diffusion"
    scope = "person"  # restyles the whole person crop, face included

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        prompt: str | None = None,  # None = DEFAULT_PROMPT, after the learned character's trigger words when lora is set
        negative_prompt: str = DEFAULT_NEGATIVE,  # "" = no negative prompt
        strength: float = 0.55,  # share of the noise schedule applied to the crop: 0 keeps it, 1 ignores it
        steps: int = 30,  # denoising steps of the full schedule; img2img runs int(steps * strength) of them
        guidance: float = 7.0,  # classifier-free guidance scale; <= 1 turns guidance off
        seed: int = 0,  # seeds the noise: the same seed and crop give the same picture
        size: int = 512,  # long side of the working size, px, a multiple of 8 (512 for SD 1.x, 768 for SD 2.x)
        device: str | None = None,  # "cuda", "cpu", ...; None = CUDA when available, else the CPU
        lora: str | os.PathLike | None = None,  # a learned character's folder; None = the base model only
        lora_scale: float = 1.0,  # strength of the learned character: 0 = off, 1 = as trained
    ) -> None:
        _check_options(strength, steps, guidance, size, lora_scale)
        self.model_dir = check_model_folder(model)
        self.lora_dir = check_lora_folder(lora) if lora is not None else None
        diffusers = require_diffusers()
        self.device = pick_device(device)
        dtype = torch.float16 if self.device.type == "cuda" else torch.float32  # half precision only where it is fast
        try:
            pipe = diffusers.StableDiffusionImg2ImgPipeline.from_pretrained(
                self.model_dir, local_files_only=True, safety_checker=None, feature_extractor=None, requires_safety_checker=False,
            )
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
            raise CheckpointError(f"The Stable Diffusion model in {self.model_dir} cannot be loaded ({err}).",
                                  "Check that the folder is complete (weights in unet/, vae/, text_encoder/) and not damaged.") from err
        trigger = ""
        if self.lora_dir is not None:
            try:
                pipe.load_lora_weights(self.lora_dir, weight_name=LORA_WEIGHTS, adapter_name="character")
                pipe.set_adapters(["character"], adapter_weights=[lora_scale])
            except (OSError, ValueError, RuntimeError, KeyError) as err:
                raise CheckpointError(f"The learned character in {self.lora_dir} cannot be loaded into {self.model_dir} ({err}).",
                                      "Use the base model it was learned on (see its card.md), or learn it again.") from err
            trigger = str(read_character(self.lora_dir).get("trigger", ""))
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(self.device, dtype)  # after loading: diffusers renamed its torch_dtype argument
        self.prompt = prompt if prompt is not None else ", ".join(p for p in (trigger, DEFAULT_PROMPT) if p)
        self.negative_prompt = negative_prompt
        self.strength, self.steps, self.guidance, self.seed, self.size = strength, steps, guidance, seed, size

    def restyle(self, crop: np.ndarray, mask: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray:
        """The crop redrawn in the prompt's style: (H, W, 3) uint8 in, (H, W, 3) uint8 out (mask and face unused)."""
        if not isinstance(crop, np.ndarray) or crop.dtype != np.uint8 or crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < 1:
            raise InputImageError(f"The crop must be an (H, W, 3) uint8 RGB array, not {getattr(crop, 'dtype', type(crop))} "
                                  f"{getattr(crop, 'shape', '')}.", "Pass the person's crop as the photo stage gives it.")
        h, w = crop.shape[:2]
        wh, ww = working_size(h, w, self.size)
        work = resize(crop, ww, wh)  # (wh, ww, 3) uint8
        generator = torch.Generator(device="cpu").manual_seed(self.seed)  # CPU noise: the same on every device
        with torch.inference_mode():
            out = self.pipe(
                prompt=self.prompt, negative_prompt=self.negative_prompt or None, image=Image.fromarray(work),
                strength=self.strength, num_inference_steps=self.steps, guidance_scale=self.guidance,
                generator=generator, output_type="np",
            ).images[0]  # (wh, ww, 3) float32 in [0, 1]
        out = np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
        return resize(out, w, h)  # (H, W, 3) uint8
