"""The cross-layer cache as a running sum and a count, one sum per stream.

The official code keeps a Python list of up to six block outputs and averages them with
``torch.mean(torch.stack(cache))``: up to five extra hidden-state buffers plus a stacked copy.
A running sum gives the same mean (up to float rounding) with one extra buffer per stream.

Half-precision streams are summed in float32: a float16 sum of six DiT block outputs can
overflow (65504) where their mean does not, and float32 accumulation is also what a CUDA
``torch.mean`` of half tensors does internally. The mean is cast back to the stream's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_ACCUMULATE_IN_FP32 = (torch.float16, torch.bfloat16)


def _sum_dtype(tensor: torch.Tensor) -> torch.dtype:
    return torch.float32 if tensor.dtype in _ACCUMULATE_IN_FP32 else tensor.dtype


class RunningWindowMean:
    """Mean of the block outputs cached since the last reset, for several streams at once.

    The streams (e.g. text and video tokens) share one schedule, so they share one count. Under
    autograd the sums are rebuilt out of place; without it they are updated in place, and a fresh
    buffer is only allocated on the first append after a reset (the reset itself aliases the
    block output, which the caller keeps alive anyway as the current hidden state).
    """

    def __init__(self, streams: Sequence[torch.Tensor]) -> None:
        self._sums: list[torch.Tensor] = []
        self._owned: list[bool] = []
        self.count = 0
        self.reset(streams)

    def reset(self, streams: Sequence[torch.Tensor]) -> None:
        """Restart the cache from these tensors (the official ``cache = [h]``)."""
        self._sums = [s if s.dtype == _sum_dtype(s) else s.to(_sum_dtype(s)) for s in streams]
        self._owned = [s.dtype != stream.dtype for s, stream in zip(self._sums, streams)]
        self.count = 1

    def append(self, streams: Sequence[torch.Tensor]) -> None:
        """Add these tensors to the cache (the official ``cache.append(h)``)."""
        in_place_ok = not torch.is_grad_enabled()
        for k, stream in enumerate(streams):
            if in_place_ok and self._owned[k]:
                self._sums[k].add_(stream)
            else:
                self._sums[k] = torch.add(self._sums[k], stream.to(self._sums[k].dtype))
                self._owned[k] = True
        self.count += 1

    def means(self, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """The cached mean of each stream, in the dtype of the matching tensor in ``like``."""
        if self.count == 1:
            return [s.to(ref.dtype) for s, ref in zip(self._sums, like)]
        return [(s / self.count).to(ref.dtype) for s, ref in zip(self._sums, like)]
