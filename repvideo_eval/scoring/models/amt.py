"""AMT-S frame interpolator (architecture from vbench.third_party.amt), official or tiny."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, skipped_init, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext


def amt_config_path() -> Path:
    import vbench

    return Path(vbench.__file__).parent / "third_party" / "amt" / "cfgs" / "AMT-S.yaml"


def load_amt(context: ScorerContext) -> tuple[Any, str]:
    """AMT-S from `amt_model/amt-s.pth` ({'state_dict': ...}, strict), or a tiny twin.

    The tiny twin keeps AMT-S's channels but uses 2 correlation levels and radius 1, so 32x32
    frames (4x4 at 1/8 resolution) still have a valid correlation pyramid.
    """
    from omegaconf import OmegaConf
    from vbench.third_party.amt.utils.build_utils import build_from_cfg

    network = OmegaConf.load(amt_config_path()).network
    if context.tiny_random:
        network.params.corr_lvls = 2
        network.params.corr_radius = 1
        with seeded(context.seed):
            model = build_from_cfg(network)
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "amt_s")
        with skipped_init():
            model = build_from_cfg(network)
        checkpoint = load_state_file(resolved.path)
        model.load_state_dict(checkpoint["state_dict"], strict=True)
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
