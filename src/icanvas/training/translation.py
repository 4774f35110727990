"""Unpaired translation trainer and its recipe (CUT: contrastive unpaired translation).

One generator G (photo -> style), one PatchGAN discriminator D, and small MLPs that project
G's encoder features for PatchNCE (Park et al. 2020): a patch of the output must be closer to
the input patch at the same place than to other input patches, which keeps the person's
structure while D pushes the look towards the style pictures. With ``loss.nce_identity``, G is
also asked to leave style pictures alone (FastCUT off, the CUT default). Trained on random
crops; evaluated on the held-out photos at full size: realism (patch sliced-Wasserstein
distance to held-out style pictures) and adherence (how well the output's lines follow the
photo's lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from icanvas.data.edges import extract_lines
from icanvas.errors import ConfigError
from icanvas.eval.metrics import realism, sketch_adherence
from icanvas.methods.translation import TranslationTrainConfig
from icanvas.models.patchgan import PatchGANDiscriminator
from icanvas.models.translator import PatchSampler, TranslatorGenerator
from icanvas.sheets import grid, tensor_to_uint8, to_tensor
from icanvas.training.diffaug import diff_augment
from icanvas.training.distributed import DistInfo
from icanvas.training.losses import GAN_LOSSES
from icanvas.training.pix2pix import linear_decay
from icanvas.training.recipes import Prepared, Recipe

ADHERENCE_TOLERANCE = 3  # px at 256 px: a line of the output within this distance of a photo line counts as following it
EVAL_BATCH = 8  # held-out photos translated per forward pass during evaluation


def layer_channels(G: TranslatorGenerator, layers: tuple[int, ...]) -> list[int]:
    """Channels of the encoder features ``G.encode`` returns for ``layers``."""
    with torch.no_grad():
        s = 4 * 2 ** G.config.n_down  # instance norm needs more than one pixel at the bottom
        return [f.shape[1] for f in G.encode(torch.zeros(1, 3, s, s), layers)]


def patch_nce(q: torch.Tensor, k: torch.Tensor, temperature: float) -> torch.Tensor:
    """PatchNCE for (B, P, D) query / key embeddings: each query's positive is the key at its own location."""
    k = k.detach()
    logits = torch.bmm(q, k.transpose(1, 2)) / temperature  # (B, P, P); the diagonal holds the positives
    target = torch.arange(q.shape[1], device=q.device).expand(q.shape[0], -1)
    return F.cross_entropy(logits.flatten(0, 1), target.flatten())


class TranslationTrainer:
    method = "translation"

    def __init__(self, cfg: TranslationTrainConfig, device: torch.device, dist_info: DistInfo = DistInfo()) -> None:
        if dist_info.enabled:
            raise ConfigError("Translation training runs in a single process.", "Start it with 'icanvas train', not torchrun.")
        self.cfg, self.device = cfg, device
        torch.manual_seed(cfg.run.seed)
        self.G = TranslatorGenerator(cfg.generator).to(device)
        self.D = PatchGANDiscriminator(cfg.discriminator, in_channels=3).to(device)
        if cfg.finetune.init_generator:
            self._start_from(cfg.finetune.init_generator)
        for layer in list(self.G.encoder)[: cfg.finetune.freeze_layers]:
            layer.requires_grad_(False)  # Adam skips parameters that never get a gradient
        self.layers = tuple(sorted(cfg.loss.nce_layers))
        self.F = PatchSampler(layer_channels(self.G, self.layers), cfg.loss.nce_dim).to(device)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(list(self.G.parameters()) + list(self.F.parameters()), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        decay = linear_decay(cfg.run.steps, o.decay_start)
        self.sched = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (self.opt_g, self.opt_d)]
        self.gan = GAN_LOSSES[cfg.loss.gan]
        self.autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=cfg.run.precision == "bf16")

    def _start_from(self, folder: str) -> None:
        """Copy the generator of the model folder ``folder`` (same architecture) into G."""
        from icanvas.checkpoint import from_pretrained

        base, info = from_pretrained(folder)
        if info.method != self.method or info.config != self.cfg.generator:
            raise ConfigError(f"finetune.init_generator: {folder} is not a translation model with this generator config.",
                              "Start from a style model folder and keep the generator section as its config.json says.")
        self.G.load_state_dict(base.state_dict())

    def _d(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(diff_augment(x, self.cfg.augment)).float()  # patch logits

    def _nce(self, src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Mean PatchNCE over the layers between the input ``src`` and G's output ``out``."""
        feat_k = self.G.encode(src, self.layers)
        feat_q = self.G.encode(out, self.layers)
        emb_k, ids = self.F(feat_k, self.cfg.loss.num_patches)
        emb_q, _ = self.F(feat_q, self.cfg.loss.num_patches, ids)
        return torch.stack([patch_nce(q, k, self.cfg.loss.temperature) for q, k in zip(emb_q, emb_k)]).mean()

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        a = torch.from_numpy(batch["a"]).to(self.device)  # (B, 3, c, c) photos in [-1, 1]
        b = torch.from_numpy(batch["b"]).to(self.device)  # (B, 3, c, c) style pictures
        loss = self.cfg.loss
        self.G.train()
        self.D.train()
        with torch.autocast(**self.autocast):
            both = self.G(torch.cat([a, b]) if loss.nce_identity else a).float()
            fake, idt = both[: len(a)], both[len(a) :]
            loss_d = self.gan.d(self._d(b), self._d(fake.detach()))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        try:
            with torch.autocast(**self.autocast):
                loss_gan = self.gan.g(self._d(fake))
                nce = self._nce(a, fake)
                nce_idt = self._nce(b, idt) if loss.nce_identity else torch.zeros((), device=self.device)
                total = loss.lambda_gan * loss_gan + loss.lambda_nce * (nce + nce_idt) / (2 if loss.nce_identity else 1)
            self.opt_g.zero_grad(set_to_none=True)
            total.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        for s in self.sched:
            s.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_gan.item(), "loss_nce": nce.item(), "loss_nce_idt": nce_idt.item(),
                "lr": self.sched[0].get_last_lr()[0]}

    @torch.no_grad()
    def translate(self, photos: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
        """(N, S, S, 3) uint8 photos -> (N, S, S, 3) uint8 pictures."""
        self.G.eval()
        out = []
        for i in range(0, len(photos), batch):
            x = torch.from_numpy(to_tensor(photos[i : i + batch])).to(self.device)
            out.append(self.G(x).float().cpu().numpy())
        self.G.train()
        return np.stack([tensor_to_uint8(x) for x in np.concatenate(out)])

    @property
    def generator(self) -> nn.Module:
        return self.G

    @property
    def model_config(self) -> Any:
        return self.cfg.generator

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.G.state_dict(), "discriminator": self.D.state_dict(), "patch_mlps": self.F.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "sched": [s.state_dict() for s in self.sched]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.F.load_state_dict(state["patch_mlps"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for s, sd in zip(self.sched, state["sched"]):
            s.load_state_dict(sd)

    def modules_for_fingerprint(self) -> nn.Module:
        return nn.ModuleList([self.G, self.D, self.F])


# ----------------------------------------------------------------------------- recipe


def prepare_translation(cfg: TranslationTrainConfig, data_dirs: list[Path], device: torch.device, dist_info: DistInfo) -> Prepared:
    from icanvas.data.unpaired import UnpairedBatcher, load_unpaired

    if len(data_dirs) != 1:
        raise ConfigError("Translation training takes one --data folder.",
                          f"Pass the folder that holds {cfg.data.domain_a}/ and {cfg.data.domain_b}/.")
    d, size = cfg.data, cfg.generator.image_size
    data = load_unpaired(data_dirs[0], size, domain_a=d.domain_a, domain_b=d.domain_b, test_a=d.test_a, test_b=d.test_b,
                         seed=cfg.run.seed, max_images=d.max_images)
    batches = UnpairedBatcher(data, crop=d.crop, scale=(d.scale_min, d.scale_max), flip=d.flip, tone_p=d.tone_jitter, seed=cfg.run.seed)
    preview = {"a": data.test_a[: cfg.run.num_samples]}
    meta = {"kinds": ["person"], "image_size": size, "style": Path(data_dirs[0]).name,
            "train_images": [len(data.train_a), len(data.train_b)],
            "io": "RGB photo in [-1, 1] -> RGB picture in [-1, 1], any side that is a multiple of "
                  f"{2 ** cfg.generator.n_down}; trained on {size} px face crops"}
    terms = ("the pictures and photos supplied for this character; the starting weights carry the base style's terms "
             f"(`{cfg.finetune.init_generator}`)" if cfg.finetune.init_generator else "research / non-commercial (the source datasets' terms)")
    summary = "\n".join([f"- {s}" for s in data.sources] + [f"- Data terms: {terms}"])
    return Prepared(TranslationTrainer(cfg, device, dist_info), batches, preview, meta, summary,
                    extra={"data": data},
                    overview=f"{len(data.train_a)} photos and {len(data.train_b)} style pictures at {size} px, "
                             f"trained on {d.crop} px crops; {len(data.test_a)} + {len(data.test_b)} held out")


def translation_grid(trainer: TranslationTrainer, preview: dict[str, np.ndarray]) -> np.ndarray:
    out = trainer.translate(preview["a"])
    return grid([[a, o] for a, o in zip(preview["a"], out)], titles=["photo", "output"])


def face_lines(images: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, S, S) bool line maps (XDoG), for adherence."""
    return np.stack([extract_lines(img, "xdog") < 128 for img in images])


def adherence(photos: np.ndarray, outputs: np.ndarray) -> float:
    """Mean adherence F1 of the outputs' lines to the photos' lines (tolerance ADHERENCE_TOLERANCE px)."""
    ref, pred = face_lines(photos), face_lines(outputs)
    return float(np.mean([sketch_adherence(p, r, ADHERENCE_TOLERANCE)["f1"] for p, r in zip(pred, ref)]))


def evaluate_translation(cfg: TranslationTrainConfig, prepared: Prepared) -> dict[str, Any]:
    data = prepared.extra["data"]
    photos = data.test_a[: cfg.eval.num_images]
    out = prepared.trainer.translate(photos)
    res = realism(data.test_b, out, data.train_b, cfg.eval.seed, prepared.extra.get("floor"))
    prepared.extra["floor"] = {k: res[k] for k in ("swd_real", "colour_real")}
    res["adherence_f1"] = round(adherence(photos, out), 4)
    return res


def translation_card(cfg: TranslationTrainConfig, prepared: Prepared, metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "Not evaluated."
    return (f"{metrics['generated']} held-out photos translated at {cfg.generator.image_size} px and compared with "
            f"{metrics['held_out']} held-out style pictures, lower is better: patch sliced-Wasserstein distance (SWD, x1e3) "
            f"and colour distance (0-255).\n\n| | SWD | colour |\n|---|---:|---:|\n"
            f"| this model | {metrics['swd']} | {metrics['colour']} |\n"
            f"| training style pictures vs held-out ones (floor) | {metrics['swd_real']} | {metrics['colour_real']} |\n\n"
            f"Adherence (F1 of the output's lines against the photo's lines, {ADHERENCE_TOLERANCE} px tolerance): "
            f"{metrics['adherence_f1']}.")


RECIPE = Recipe(prepare_translation, translation_grid, evaluate_translation, translation_card)
