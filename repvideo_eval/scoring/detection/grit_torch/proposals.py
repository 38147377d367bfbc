"""GRiT's proposal generator: CenterNet in class-agnostic mode (heatmap + box regression).

Inference as CenterNet2's `predict_single_level` + `nms_and_topK` run it: score = sqrt(sigmoid),
candidates where sigmoid > 1e-4, at most 1000 per level by `topk(sorted=False)`, boxes from the
grid point and the stride-scaled regression (x2 >= x1 + 0.01), levels concatenated P3..P7, NMS 0.9,
then every proposal whose score reaches the k-th best (k = 256, `kthvalue`, ties kept). Proposals
are not clipped. Module names mirror `proposal_generator.centernet_head.*`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import batched_nms

from repvideo_eval.scoring.detection.grit_torch.config import GritConfig


class Scale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class CenterNetHead(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        channels = config.fpn_channels
        tower: list[nn.Module] = []
        for _ in range(config.centernet_convs):
            tower += [
                nn.Conv2d(channels, channels, 3, padding=1),
                nn.GroupNorm(config.centernet_groups, channels),
                nn.ReLU(),
            ]
        self.bbox_tower = nn.Sequential(*tower)
        self.agn_hm = nn.Conv2d(channels, 1, 3, padding=1)
        self.bbox_pred = nn.Conv2d(channels, 4, 3, padding=1)
        self.scales = nn.ModuleList(Scale() for _ in config.strides)

    def forward(
        self, features: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        heatmaps, regressions = [], []
        for level, feature in enumerate(features):
            tower = self.bbox_tower(feature)
            heatmaps.append(self.agn_hm(tower))
            regressions.append(F.relu(self.scales[level](self.bbox_pred(tower))))
        return heatmaps, regressions


def grid_points(height: int, width: int, stride: int, device: torch.device) -> torch.Tensor:
    """(H * W, 2) centres (x, y) of a level's cells, row-major."""
    xs = torch.arange(0, width * stride, step=stride, dtype=torch.float32, device=device)
    ys = torch.arange(0, height * stride, step=stride, dtype=torch.float32, device=device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x.reshape(-1), grid_y.reshape(-1)), dim=1) + stride // 2


class CenterNet(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.config = config
        self.centernet_head = CenterNetHead(config)

    def forward(self, features: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(boxes (n, 4), scores (n,)) per image of the batch."""
        heatmaps, regressions = self.centernet_head(features)
        per_image: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in features[0]]
        for level, (heatmap, regression) in enumerate(zip(heatmaps, regressions)):
            stride = self.config.strides[level]
            grid = grid_points(heatmap.shape[2], heatmap.shape[3], stride, heatmap.device)
            for image, found in enumerate(
                self._level(heatmap.sigmoid(), regression * stride, grid)
            ):
                per_image[image].append(found)
        return [self._select(levels) for levels in per_image]

    def _level(
        self, heatmap: torch.Tensor, regression: torch.Tensor, grid: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        batch = heatmap.shape[0]
        scores_all = heatmap.permute(0, 2, 3, 1).reshape(batch, -1)
        deltas_all = regression.permute(0, 2, 3, 1).reshape(batch, -1, 4)
        out = []
        for image in range(batch):
            candidates = scores_all[image] > self.config.proposal_score_min
            scores = scores_all[image][candidates]
            where = candidates.nonzero()[:, 0]
            deltas, points = deltas_all[image][where], grid[where]
            if scores.numel() > self.config.pre_nms_topk:
                scores, top = scores.topk(self.config.pre_nms_topk, sorted=False)
                deltas, points = deltas[top], points[top]
            boxes = torch.stack(
                [
                    points[:, 0] - deltas[:, 0],
                    points[:, 1] - deltas[:, 1],
                    points[:, 0] + deltas[:, 2],
                    points[:, 1] + deltas[:, 3],
                ],
                dim=1,
            )
            boxes[:, 2] = torch.max(boxes[:, 2], boxes[:, 0] + 0.01)
            boxes[:, 3] = torch.max(boxes[:, 3], boxes[:, 1] + 0.01)
            out.append((boxes, torch.sqrt(scores)))
        return out

    def _select(
        self, levels: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        boxes = torch.cat([b for b, _ in levels])
        scores = torch.cat([s for _, s in levels])
        labels = torch.zeros(len(scores), dtype=torch.int64, device=scores.device)
        keep = batched_nms(boxes.float(), scores, labels, self.config.proposal_nms)
        boxes, scores = boxes[keep], scores[keep]
        limit = self.config.post_nms_topk
        if len(scores) > limit:
            threshold, _ = torch.kthvalue(scores.float().cpu(), len(scores) - limit + 1)
            kept = torch.nonzero(scores >= threshold.item()).squeeze(1)
            boxes, scores = boxes[kept], scores[kept]
        return boxes, scores
