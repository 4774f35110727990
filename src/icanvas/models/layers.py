"""Small building blocks shared by the architectures."""

from __future__ import annotations

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
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1, bias=bias))


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
