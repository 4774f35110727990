"""Small building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn


def make_norm(kind: str, channels: int) -> nn.Module:
    """Normalisation layer by name: 'batch', 'instance' (no affine stats tracking) or 'none'."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)
    return nn.Identity()


def upsample_conv(cin: int, cout: int, mode: str, bias: bool = True) -> nn.Module:
    """Double the side: "transpose" (4x4 stride-2 deconv) or "resize" (nearest x2 + 3x3 conv, no checkerboard)."""
    if mode == "transpose":
        return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=bias)
    return ResizeUpsample(cin, cout, bias)


# Nearest x2 then a zero-padded 3x3 conv equals a 4x4 stride-2 transposed conv: each output
# phase (even/odd row and column) sees 2 input rows/columns whose weights are sums of the 3x3 taps.
# Row i of _PHASES says which 3x3 taps add up into tap i of the 4x4 kernel.
_PHASES = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def transposed_weight(w: torch.Tensor) -> torch.Tensor:
    """The 4x4 transposed-conv kernel (Cin, Cout, 4, 4) equal to nearest x2 then the 3x3 conv ``w`` (Cout, Cin, 3, 3)."""
    phases = _PHASES.to(device=w.device, dtype=w.dtype)
    return torch.einsum("ik,ockl,jl->coij", phases, w, phases)


class ResizeUpsample(nn.Sequential):
    """Nearest x2 then a 3x3 conv (its parameters, state-dict keys ``1.weight`` / ``1.bias``), computed
    as the equal 4x4 stride-2 transposed conv of those weights: 2.25x fewer multiply-adds forward and
    backward, and the gradients still reach the 3x3 taps. ``fold = False`` computes it literally."""

    def __init__(self, cin: int, cout: int, bias: bool = True) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1, bias=bias))
        self.fold = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fold:
            return super().forward(x)
        conv = self[1]
        with torch.autocast(x.device.type, enabled=False):  # the tap sums stay in the weights' precision
            w = transposed_weight(conv.weight)
        return nn.functional.conv_transpose2d(x, w, conv.bias, stride=2, padding=1)


def set_upsampling_fold(module: nn.Module, fold: bool) -> None:
    """Compute every :class:`ResizeUpsample` in ``module`` folded (the transposed conv) or literally."""
    for m in module.modules():
        if isinstance(m, ResizeUpsample):
            m.fold = fold


def as_transposed(resize: nn.Sequential) -> nn.ConvTranspose2d:
    """The exact stride-2 transposed conv of a "resize" upsampling block (2.25x fewer multiply-adds)."""
    conv = resize[1]
    w = transposed_weight(conv.weight.detach())  # (Cin, Cout, 4, 4)
    out = nn.ConvTranspose2d(conv.in_channels, conv.out_channels, 4, stride=2, padding=1, bias=conv.bias is not None)
    out = out.to(conv.weight.dtype)
    with torch.no_grad():
        out.weight.copy_(w)
        if conv.bias is not None:
            out.bias.copy_(conv.bias)
    return out


def is_resize_block(m: nn.Module) -> bool:
    return (isinstance(m, nn.Sequential) and len(m) == 2 and isinstance(m[0], nn.Upsample) and m[0].mode == "nearest"
            and m[0].scale_factor in (2, 2.0) and isinstance(m[1], nn.Conv2d) and m[1].kernel_size == (3, 3)
            and m[1].padding == (1, 1) and m[1].stride == (1, 1) and m[1].padding_mode == "zeros")


# The same block as a sub-pixel conv: one zero-padded 3x3 conv on the *input* gives the four output
# phases as 4 x Cout channels (phase (a, b) uses the 2 x 2 taps _SUBPIXEL[a] x _SUBPIXEL[b] of it),
# then a pixel shuffle interleaves them. More multiply-adds than the transposed conv, but plain
# convs only, which int8 runtimes quantise (none quantises a transposed conv).
# _SUBPIXEL[a][u, p]: the resize conv's tap row p adds into row u of the 3x3 kernel for phase a.
_SUBPIXEL = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]],
                          [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])


class SubpixelUpsample(nn.Module):
    """The exact sub-pixel form of a "resize" upsampling block (see :data:`_SUBPIXEL`)."""

    def __init__(self, resize: nn.Sequential) -> None:
        super().__init__()
        conv = resize[1]
        w = conv.weight.detach()  # (Cout, Cin, 3, 3)
        phases = [torch.einsum("up,ocpq,vq->ocuv", _SUBPIXEL[a], w, _SUBPIXEL[b]) for a in (0, 1) for b in (0, 1)]
        self.conv = nn.Conv2d(conv.in_channels, 4 * conv.out_channels, 3, padding=1, bias=conv.bias is not None)
        self.conv.to(w.dtype)
        with torch.no_grad():  # pixel_shuffle reads channel c * 4 + phase
            self.conv.weight.copy_(torch.stack(phases, 1).reshape(4 * conv.out_channels, conv.in_channels, 3, 3))
            if conv.bias is not None:
                self.conv.bias.copy_(conv.bias.detach().repeat_interleave(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.pixel_shuffle(self.conv(x), 2)


def fold_resize_upsampling(module: nn.Module, into: str = "transposed") -> nn.Module:
    """Replace every "resize" upsampling block in ``module`` by its equal ``into`` form, in place:
    "transposed" (2.25x fewer multiply-adds) or "subpixel" (plain convs, for int8)."""
    make = {"transposed": as_transposed, "subpixel": SubpixelUpsample}[into]
    for name, child in module.named_children():
        if is_resize_block(child):
            setattr(module, name, make(child))
        else:
            fold_resize_upsampling(child, into)
    return module


def has_resize_upsampling(module: nn.Module) -> bool:
    return any(is_resize_block(m) for m in module.modules())


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """pix2pix / DCGAN initialisation: conv weights N(0, std), norm scales N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
