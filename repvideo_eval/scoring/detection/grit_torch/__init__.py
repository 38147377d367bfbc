"""GRiT-B inference in plain PyTorch (no detectron2): the default backend of VBench's four
detection dimensions. See model.py for what it computes and checkpoint.py for how it loads."""

from repvideo_eval.scoring.detection.grit_torch.config import GRIT_B, GritConfig, tiny
from repvideo_eval.scoring.detection.grit_torch.model import GritOutput, GritTorch

__all__ = ["GRIT_B", "GritConfig", "GritOutput", "GritTorch", "tiny"]
