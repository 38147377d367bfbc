"""UMT ViT-L/16 Kinetics-400 classifier (human_action) from vbench's own architecture module.

vbench builds it with `timm.create_model("vit_large_patch16_224", num_classes=400, all_frames=16,
tubelet_size=1, use_mean_pooling=True, init_scale=0.001, drop_path_rate=0.2, ...)` after
importing `vbench.third_party.umt.models.modeling_finetune`, which registers that name in timm
(overwriting timm's own ViT-L). We call the module's `VisionTransformer` class directly with the
same arguments, so timm's registry is only touched by the import itself. vbench loads the file
with `strict=False`; so do we, and the missing/unexpected key lists go into the weights id check.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from torch import nn

from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers the files)

logger = logging.getLogger(__name__)


def build_umt(*, tiny: bool) -> nn.Module:
    """vit_large_patch16_224 as human_action builds it, or a 2-layer, 32-wide twin."""
    from vbench.third_party.umt.models.modeling_finetune import VisionTransformer

    width, depth, heads = (32, 2, 2) if tiny else (1024, 24, 16)
    return VisionTransformer(
        patch_size=16,
        embed_dim=width,
        depth=depth,
        num_heads=heads,
        mlp_ratio=4,
        qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        num_classes=400,
        all_frames=16,
        tubelet_size=1,
        use_learnable_pos_emb=False,
        fc_drop_rate=0.0,
        drop_rate=0.0,
        drop_path_rate=0.2,
        attn_drop_rate=0.0,
        use_checkpoint=False,
        checkpoint_num=16,
        use_mean_pooling=True,
        init_scale=0.001,
    )


def kinetics_categories() -> dict[int, str]:
    """Class index -> lower-case Kinetics-400 name, from the list file vbench ships."""
    import vbench

    path = Path(vbench.__file__).parent / "third_party" / "umt" / "kinetics_400_categories.txt"
    categories = {}
    for line in path.read_text().splitlines():
        if line.strip():
            name, number = line.strip().split("\t")
            categories[int(number)] = name.lower()
    return categories


def load_umt(context: ScorerContext) -> tuple[nn.Module, str]:
    """(UMT in eval mode on the context device, weights_id)."""
    tiny = context.tiny_random
    with seeded(context.seed):
        model = build_umt(tiny=tiny)
    if tiny:
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "umt_l16_k400")
        result = model.load_state_dict(load_state_file(resolved.path), strict=False)
        if result.missing_keys:
            logger.warning(
                "UMT checkpoint lacks %d keys (vbench loads with strict=False too): %s",
                len(result.missing_keys),
                result.missing_keys[:5],
            )
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
