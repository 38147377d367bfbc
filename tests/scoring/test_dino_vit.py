"""The project's DINO ViT against timm's ViT (same state dict) where both define the same function."""

from __future__ import annotations

import pytest
import torch

from repvideo_eval.scoring.models.dino_vit import DinoViT


@pytest.fixture(scope="module")
def models():
    import timm

    torch.manual_seed(0)
    ours = DinoViT(embed_dim=192, depth=3, num_heads=3).eval()
    with torch.no_grad():
        for name, tensor in ours.state_dict().items():
            if "norm" in name or name.endswith("bias"):
                tensor.add_(0.1 * torch.randn_like(tensor))
    reference = timm.models.vision_transformer.VisionTransformer(
        patch_size=16,
        embed_dim=192,
        depth=3,
        num_heads=3,
        qkv_bias=True,
        num_classes=0,
        global_pool="token",
        dynamic_img_size=True,
    ).eval()
    reference.load_state_dict(ours.state_dict(), strict=True)  # DINO's key names load strictly
    return ours, reference


def test_matches_timm_at_the_training_resolution(models):
    ours, reference = models
    x = torch.randn(3, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(ours(x), reference(x), atol=1e-5)


def test_non_square_inputs_interpolate_the_position_grid(models):
    ours, _ = models
    x = torch.randn(
        1, 3, 224, 358
    )  # dino_transform output of a 512x320 video; width floors to 22 patches
    with torch.no_grad():
        tokens = ours.patch_embed(x)
        pos = ours.interpolate_pos_encoding(torch.zeros(1, tokens.shape[1] + 1, 192), 224, 358)
        out = ours(x)
    assert tokens.shape[1] == 14 * 22 and pos.shape == (1, 14 * 22 + 1, 192)
    assert torch.equal(pos[:, 0], ours.pos_embed[:, 0])
    assert out.shape == (1, 192) and torch.isfinite(out).all()
