"""GRiT's cascade of three box heads on ROIAlignV2 features, and the final box selection.

As detectron2's `CascadeROIHeads` + GRiT's `fast_rcnn_inference_single_image_GRiT` run them at
test time: stage 1 pools the (unclipped) proposals, stages 2-3 the previous stage's boxes clipped
to the unpadded image; score = (mean of the three stages' foreground softmax, summed then scaled by
1/3, times the proposal score) ** 0.5; boxes = the last stage's, clipped; keep non-finite-free rows
with score > 0.5, NMS 0.5, at most 256. Module names mirror `roi_heads.box_head.K.fcN` and
`roi_heads.box_predictor.K.{cls_score,bbox_pred}`.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import batched_nms, roi_align

from repvideo_eval.scoring.detection.grit_torch.config import GritConfig


def pool_levels(
    features: list[torch.Tensor], boxes: torch.Tensor, resolution: int, strides: tuple[int, ...]
) -> torch.Tensor:
    """ROIAlignV2 (aligned, adaptive sampling) of one image's boxes on P3-P5, FPN level rule."""
    sizes = torch.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = torch.floor(4 + torch.log2(sizes / 224 + 1e-8))
    levels = torch.clamp(levels, min=3, max=3 + len(features) - 1).to(torch.int64) - 3
    rois = torch.cat([boxes.new_zeros(len(boxes), 1), boxes], dim=1)
    out = features[0].new_zeros(len(boxes), features[0].shape[1], resolution, resolution)
    for level, feature in enumerate(features):
        index = torch.nonzero(levels == level, as_tuple=True)[0]
        pooled = roi_align(
            feature,
            rois[index].to(feature.dtype),
            resolution,
            spatial_scale=1.0 / strides[level],
            sampling_ratio=0,
            aligned=True,
        )
        out.index_put_((index,), pooled)
    return out


def clip_boxes(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return torch.stack(
        (
            boxes[:, 0].clamp(min=0, max=width),
            boxes[:, 1].clamp(min=0, max=height),
            boxes[:, 2].clamp(min=0, max=width),
            boxes[:, 3].clamp(min=0, max=height),
        ),
        dim=-1,
    )


def apply_deltas(
    deltas: torch.Tensor, boxes: torch.Tensor, weights: tuple[float, ...], clamp: float
) -> torch.Tensor:
    """detectron2's Box2BoxTransform.apply_deltas for class-agnostic (n, 4) deltas."""
    deltas = deltas.float()
    boxes = boxes.to(deltas.dtype)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    ctr_x = boxes[:, 0] + 0.5 * widths
    ctr_y = boxes[:, 1] + 0.5 * heights
    wx, wy, ww, wh = weights
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = torch.clamp(deltas[:, 2::4] / ww, max=clamp)
    dh = torch.clamp(deltas[:, 3::4] / wh, max=clamp)
    pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
    pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
    pred_w = torch.exp(dw) * widths[:, None]
    pred_h = torch.exp(dh) * heights[:, None]
    pred = torch.stack(
        (
            pred_ctr_x - 0.5 * pred_w,
            pred_ctr_y - 0.5 * pred_h,
            pred_ctr_x + 0.5 * pred_w,
            pred_ctr_y + 0.5 * pred_h,
        ),
        dim=-1,
    )
    return pred.reshape(deltas.shape)


class BoxHead(nn.Module):
    """Two FC layers with ReLU on the flattened 7x7 pooled features."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        size = config.fpn_channels * config.pooler_resolution**2
        self.fc1 = nn.Linear(size, config.box_fc_dim)
        self.fc2 = nn.Linear(config.box_fc_dim, config.box_fc_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(torch.flatten(x, start_dim=1)))
        return torch.relu(self.fc2(x))


class BoxPredictor(nn.Module):
    """Foreground/background logits and a class-agnostic MLP box regressor."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        dim = config.box_fc_dim
        self.cls_score = nn.Linear(dim, 2)
        self.bbox_pred = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 4))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls_score(x), self.bbox_pred(x)


class CascadeBoxHeads(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.config = config
        stages = len(config.cascade_weights)
        self.box_head = nn.ModuleList(BoxHead(config) for _ in range(stages))
        self.box_predictor = nn.ModuleList(BoxPredictor(config) for _ in range(stages))

    def forward(
        self,
        features: list[torch.Tensor],
        proposals: torch.Tensor,
        proposal_scores: torch.Tensor,
        image_size: tuple[int, int],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Final (boxes (n, 4) clipped, detection scores (n,)) of one image, NMS'd, best first."""
        config = self.config
        height, width = image_size
        boxes = proposals
        probabilities = []
        for stage, weights in enumerate(config.cascade_weights):
            if stage > 0:
                boxes = clip_boxes(boxes.detach(), height, width)
            pooled = pool_levels(features, boxes, config.pooler_resolution, config.strides)
            logits, deltas = self.box_predictor[stage](self.box_head[stage](pooled))
            probabilities.append(torch.softmax(logits, dim=-1))
            boxes = apply_deltas(deltas, boxes, weights, config.scale_clamp)
        total = sum(probabilities) * (1.0 / len(probabilities))
        scores = (total * proposal_scores[:, None]) ** 0.5
        valid = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores).all(dim=1)
        if not valid.all():
            boxes, scores = boxes[valid], scores[valid]
        scores = scores[:, 0]
        boxes = clip_boxes(boxes, height, width)
        keep_score = scores > config.score_threshold
        boxes, scores = boxes[keep_score], scores[keep_score]
        labels = torch.zeros(len(scores), dtype=torch.int64, device=scores.device)
        keep = batched_nms(boxes.float(), scores, labels, config.nms_threshold)
        keep = keep[: config.max_detections]
        return boxes[keep], scores[keep]
