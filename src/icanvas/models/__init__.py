"""Pure ``nn.Module`` architectures, one per file; each constructor takes only its config."""

from icanvas.models.layers import make_norm
from icanvas.models.patchgan import PatchGANDiscriminator
from icanvas.models.unet import UNetGenerator

__all__ = ["PatchGANDiscriminator", "UNetGenerator", "make_norm"]
