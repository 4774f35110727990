"""pix2pix trainer and its recipe: U-Net generator + PatchGAN discriminator, GAN loss + lambda * L1.

The trainer owns the networks, optimisers and LR schedules and exposes the two loss phases
(``d_step`` / ``g_step``) returning plain floats; the shared loop (:mod:`.loop`) owns
logging, checkpoints and resume. The recipe loads the prepared sketch/photo pairs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from icanvas.checkpoint import unwrap
from icanvas.data.datasets import PairBatcher, load_pairs, read_manifest
from icanvas.data.sketchify import Sketchify
from icanvas.errors import DatasetError
from icanvas.methods.pix2pix import Pix2PixConfig
from icanvas.models.patchgan import build_discriminator, scale_features
from icanvas.models.unet import UNetGenerator
from icanvas.sheets import grid, tensor_to_uint8
from icanvas.training.distributed import DistInfo
from icanvas.training.ema import update_ema
from icanvas.training.losses import GAN_LOSSES
from icanvas.training.recipes import Prepared, Recipe


def linear_decay(total_steps: int, decay_start: float):
    """LR multiplier: 1 until ``decay_start * total``, then linearly down to 0 at ``total``."""
    start = int(total_steps * decay_start)

    def factor(step: int) -> float:
        if step < start:
            return 1.0
        return max(0.0, 1.0 - (step - start) / max(1, total_steps - start))

    return factor


class Pix2PixTrainer:
    method = "pix2pix"

    def __init__(self, cfg: Pix2PixConfig, device: torch.device, dist_info: DistInfo = DistInfo()) -> None:
        self.cfg, self.device, self.dist = cfg, device, dist_info
        torch.manual_seed(cfg.run.seed)  # identical initial weights on every rank
        g = UNetGenerator(cfg.generator).to(device)
        self.kind_planes = cfg.generator.num_classes if cfg.discriminator.kind_input else 0
        d_in = cfg.generator.in_channels + cfg.generator.hint_channels + cfg.generator.out_channels + self.kind_planes
        d = build_discriminator(cfg.discriminator, in_channels=d_in).to(device)
        if cfg.run.channels_last:
            g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        if dist_info.enabled:
            ids = [device.index] if device.type == "cuda" else None
            g, d = DDP(g, device_ids=ids), DDP(d, device_ids=ids)
        self.G, self.D = g, d
        # the exponential moving average of G's weights: what is sampled and saved when on
        self.ema = copy.deepcopy(unwrap(g)).eval().requires_grad_(False) if cfg.ema.decay > 0 else None
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        decay = linear_decay(cfg.run.steps, o.decay_start)
        self.sched = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (self.opt_g, self.opt_d)]
        self.gan = GAN_LOSSES[cfg.loss.gan]
        self.autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=cfg.run.precision == "bf16")

    # ------------------------------------------------------------------ data

    def to_device(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        out = {k: torch.from_numpy(v).to(self.device, non_blocking=True) for k, v in batch.items()}
        if self.cfg.run.channels_last:
            out = {k: v.contiguous(memory_format=torch.channels_last) if v.ndim == 4 else v for k, v in out.items()}
        return out

    def condition(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        """Generator input: sketch (+ hints), (B, 1 [+4], S, S)."""
        return torch.cat([b["sketch"], b["hint"]], 1) if "hint" in b else b["sketch"]

    def d_condition(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        """What D sees beside the picture: the generator input (+ the kind as one-hot planes)."""
        cond = self.condition(b)
        if not self.kind_planes:
            return cond
        onehot = F.one_hot(b["label"], self.kind_planes).to(cond.dtype)  # (B, K)
        return torch.cat([cond, onehot[:, :, None, None].expand(-1, -1, *cond.shape[2:])], 1)

    def _label(self, b: dict[str, torch.Tensor]) -> torch.Tensor | None:
        return b["label"] if self.cfg.generator.num_classes > 0 else None

    # ------------------------------------------------------------------ loss phases

    def _scores(self, d: nn.Module, x: torch.Tensor, features: bool = False) -> list:
        """Per discriminator scale: its logits, or (with ``features``) its activations then its logits."""
        if features:
            return scale_features(d, x)
        out = d(x)
        return out if isinstance(out, list) else [out]

    def d_step(self, b: dict[str, torch.Tensor], fake: torch.Tensor) -> dict[str, float]:
        cond = self.d_condition(b)
        with torch.autocast(**self.autocast):
            # one D pass over [real; fake] so DDP sees a single forward per backward
            pairs = torch.cat([torch.cat([cond, b["photo"]], 1), torch.cat([cond, fake.detach()], 1)], 0)
            scales = [s.float().chunk(2, dim=0) for s in self._scores(self.D, pairs)]
            loss = sum(self.gan.d(real, fake_) for real, fake_ in scales) / len(scales)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return {"loss_d": loss.item(), "d_real": scales[0][0].mean().item(), "d_fake": scales[0][1].mean().item()}

    def g_step(self, b: dict[str, torch.Tensor], fake: torch.Tensor) -> dict[str, float]:
        d = unwrap(self.D)  # no DDP reduction for D in this phase: its grads are not used
        d.requires_grad_(False)
        lf = self.cfg.loss.lambda_fm
        out: dict[str, float] = {}
        try:
            with torch.autocast(**self.autocast):
                cond = self.d_condition(b)
                fake_s = self._scores(d, torch.cat([cond, fake], 1), features=lf > 0)
                logits = [s[-1] for s in fake_s] if lf > 0 else fake_s
                adv = sum(self.gan.g(lg.float()) for lg in logits) / len(logits)
                l1 = F.l1_loss(fake.float(), b["photo"])
                loss = adv + self.cfg.loss.lambda_l1 * l1
                if lf > 0:  # match D's activations on the real pair, layer by layer (pix2pixHD)
                    with torch.no_grad():
                        real_s = self._scores(d, torch.cat([cond, b["photo"]], 1), features=True)
                    fm = sum(F.l1_loss(f.float(), r.float()) for fs, rs in zip(fake_s, real_s)
                             for f, r in zip(fs[:-1], rs[:-1])) / len(fake_s)
                    loss = loss + lf * fm
                    out["loss_fm"] = fm.item()
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            d.requires_grad_(True)
        return {"loss_g": loss.item(), "loss_g_gan": adv.item(), "loss_l1": l1.item()} | out

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        b = self.to_device(batch)
        self.G.train()
        self.D.train()
        with torch.autocast(**self.autocast):
            fake = self.G(self.condition(b), self._label(b)).float()  # (B, 3, S, S)
        out = self.d_step(b, fake)
        out |= self.g_step(b, fake)
        for s in self.sched:
            s.step()
        if self.ema is not None:  # the schedulers count the steps done
            update_ema(self.ema, unwrap(self.G), self.sched[0].last_epoch, self.cfg.ema, copy_buffers=True)
        out["lr"] = self.sched[0].get_last_lr()[0]
        return out

    @torch.no_grad()
    def generate(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        b = self.to_device(batch)
        g = self.generator
        was_training = g.training
        g.eval()
        out = g(self.condition(b), self._label(b))
        g.train(was_training)
        return out

    # ------------------------------------------------------------------ state

    @property
    def generator(self) -> nn.Module:
        """The generator that is sampled and saved: the EMA when on, else G."""
        return self.ema if self.ema is not None else unwrap(self.G)

    @property
    def model_config(self) -> Any:
        return self.cfg.generator

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": unwrap(self.G).state_dict(),
            "discriminator": unwrap(self.D).state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "sched": [s.state_dict() for s in self.sched],
            "ema": self.ema.state_dict() if self.ema is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        unwrap(self.G).load_state_dict(state["generator"])
        unwrap(self.D).load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for s, sd in zip(self.sched, state["sched"]):
            s.load_state_dict(sd)
        if self.ema is not None:  # a run that had no EMA yet starts its average from G
            self.ema.load_state_dict(state["ema"] if state.get("ema") is not None else state["generator"])

    def warm_start(self, state: dict[str, Any], source_kinds: list[str]) -> None:
        """Start from another pix2pix run's weights (see :mod:`.warm_start`); kind tables follow ``data.kinds``."""
        from icanvas.training.warm_start import kind_rows, load_matching

        g_src, d_src = state["generator"], state.get("discriminator")  # no discriminator: a model folder
        sources = self.cfg.run.kind_sources()
        rows = kind_rows(source_kinds, [sources.get(k, k) for k in self.cfg.data.kinds]) if self.cfg.generator.num_classes else []
        g_map = {k: (0, rows) for k in g_src if k == "class_embed.weight" or (k.startswith("film.") and k.endswith(".weight"))}
        first = next(k for k, v in unwrap(self.G).state_dict().items() if v.ndim == 4)  # the conv that sees sketch (+ hints)
        load_matching(unwrap(self.G), g_src, g_map if rows else {}, widen=first if self.cfg.generator.hint_channels else "")
        if self.ema is not None:
            self.ema.load_state_dict(unwrap(self.G).state_dict())
        if d_src is None:  # the discriminator keeps its random weights
            return
        d = unwrap(self.D)
        own = d.state_dict()
        first = next(k for k, v in own.items() if v.ndim == 4)  # the first conv sees the inputs
        prefix = first.rsplit(".", 1)[0].split(".parametrizations")[0] + "."
        base = own[first].shape[1] - self.kind_planes  # sketch (+ hints) + picture channels
        d_map, fresh = {}, frozenset()
        if self.kind_planes and d_src[first].shape[1] > base:
            d_map = {first: (1, list(range(base)) + [base + r for r in rows])}
            # spectral norm's power-iteration vectors have the old input size; they re-converge in a few steps
            fresh = frozenset(k for k, v in own.items() if k.startswith(prefix) and k != first and v.ndim == 1
                              and k in d_src and d_src[k].shape != v.shape)
        load_matching(d, d_src, d_map, fresh)

    def modules_for_fingerprint(self) -> nn.Module:
        return nn.ModuleList([unwrap(self.G), unwrap(self.D)])


# ----------------------------------------------------------------------------- recipe


def prepare_pix2pix(cfg: Pix2PixConfig, data_dirs: list[Path], device: torch.device, dist_info: DistInfo) -> Prepared:
    size = cfg.generator.image_size
    train = load_pairs(data_dirs, "train", size, cfg.data.kinds)
    sk = Sketchify(cfg.sketchify, image_size=size) if cfg.sketchify.enabled else None
    batches = PairBatcher(train, cfg.data, cfg.hints, sk, seed=cfg.run.seed, rank=dist_info.rank, world_size=dist_info.world_size)
    try:  # sample grids show held-out pairs when there are any
        val = load_pairs(data_dirs, "val", size, cfg.data.kinds)
        preview_src = PairBatcher(val, cfg.data, cfg.hints, None, seed=cfg.run.seed)
    except DatasetError:  # no val split: show training pairs
        preview_src = batches
    preview = preview_src.fixed(cfg.run.num_samples)
    manifests = [read_manifest(d) for d in data_dirs]
    terms = sorted({m.get("data_terms", "") for m in manifests} - {""})
    kinds = list(cfg.data.kinds) or sorted({m.get("kind") or Path(d).name for m, d in zip(manifests, data_dirs)})
    lines = [f"- `{d}`: {len(list((Path(d) / 'train').glob('*')))} training pairs; source `{m.get('source', '?')}`, "
             f"lines `{m.get('edges', '?')}`, background removal `{m.get('remove_background', '?')}`" for d, m in zip(data_dirs, manifests)]
    summary = "\n".join(lines + [f"- Data terms: {'; '.join(terms) or 'not recorded by prepare; check the source data licence'}"])
    meta = {"kinds": kinds, "image_size": size, "class_conditional": cfg.generator.num_classes > 0,
            "hints": cfg.hints.enabled, "sketchify": cfg.sketchify.enabled, "train_pairs": len(train),
            "subject_fill": cfg.data.subject_fill or train.subject_fill(),
            "line_width": max(int(m.get("line_width", 2)) * size // int(m.get("size", size)) for m in manifests) or 1}
    return Prepared(Pix2PixTrainer(cfg, device, dist_info), batches, preview, meta, summary,
                    overview=f"{len(train)} training pairs at {size} px")


def pix2pix_grid(trainer: Pix2PixTrainer, preview: dict[str, np.ndarray]) -> np.ndarray:
    out = trainer.generate(preview).float().cpu().numpy()
    rows = [[tensor_to_uint8(preview["sketch"][i]), tensor_to_uint8(out[i]), tensor_to_uint8(preview["photo"][i])]
            for i in range(len(out))]
    return grid(rows, titles=["sketch", "output", "target"])


RECIPE = Recipe(prepare_pix2pix, pix2pix_grid)
