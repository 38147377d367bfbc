"""Read-only probes that reduce a video transformer's features and attention while it samples.

Every family in ``analysis.families`` is supported (CogVideoX, Wan 2.1/2.2, HunyuanVideo and
1.5, LTX-Video, Mochi); the description below is CogVideoX's, the differences follow it.

Installed for one video, removed afterwards:

- a forward pre-hook on the transformer counts its calls; the pipeline calls it once per sampler
  step, so call ``k`` is step ``k`` (1-based). Only the chosen steps are reduced;
- a forward pre-hook and a forward hook on every block see the block's video-stream input and
  output. Hooks on blocks work for the stock loop and RepVideo's loop alike, and under RepVideo
  the input is the *mixed* tensor (the block's real input, F_enh in the paper);
- every block's attention processor is wrapped: the wrapper first calls the original processor
  (so the attention output is the stock computation, untouched), then recomputes the conditional
  branch's queries and keys exactly as ``CogVideoXAttnProcessor2_0`` does and reduces them with
  ``frame_attention``.

Nothing is written into the model's tensors, so the sampled video is identical with and without
the probes (tested). Only the conditional CFG branch is analysed (see ``branch``).

Other families: the hooks sit on the blocks of the family's loop (HunyuanVideo: dual-stream then
single-stream blocks), the block's first argument and first output are its video stream, and the
self-attention's queries and keys are recorded from the model's own attention call
(``attention_capture``) instead of being recomputed. Wan's and LTX-Video's self-attention sees
video tokens only; their text cross-attention is not part of the frame statistics.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from repvideo_eval.analysis.attention_capture import run_recording, to_text_first
from repvideo_eval.analysis.attention_stats import (
    DEFAULT_CHUNK_ELEMENTS,
    FrameAttention,
    frame_attention,
)
from repvideo_eval.analysis.branch import conditional_row
from repvideo_eval.analysis.families import argument, probe_family
from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.analysis.similarity import AdjacentSimilarity, adjacent_frame_similarity
from repvideo_eval.errors import UserError

#: Block tensors whose adjacent-frame similarity is recorded.
BLOCK_INPUT = "block_input"
BLOCK_OUTPUT = "block_output"
SUPPORTED_PROCESSOR = "CogVideoXAttnProcessor2_0"


@dataclass(frozen=True)
class SimilarityCapture:
    """Adjacent-frame similarity of one block tensor at one step."""

    step: int
    block: int
    tensor: str
    similarity: AdjacentSimilarity


@dataclass(frozen=True)
class AttentionCapture:
    """Frame-reduced attention of one block at one step."""

    step: int
    block: int
    attention: FrameAttention


@dataclass
class Captures:
    """Everything the probes recorded for one video."""

    layout: TokenLayout | None = None
    timesteps: dict[int, float] = field(default_factory=dict)
    similarities: list[SimilarityCapture] = field(default_factory=list)
    attentions: list[AttentionCapture] = field(default_factory=list)
    #: transformer calls, and sampler steps (calls of the conditional branch)
    calls: int = 0
    steps: int = 0


_argument = argument


def cogvideox_query_key(
    attn: Any,
    hidden_states: torch.Tensor,
    encoder_hidden_states: torch.Tensor,
    image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Queries and keys (heads, L, head_dim) of one batch row, as CogVideoXAttnProcessor2_0 forms them.

    ``hidden_states`` / ``encoder_hidden_states`` are that row's video and text inputs of the
    attention (batch of one). Text tokens come first; rotary embeddings touch video tokens only.
    """
    text_len = encoder_hidden_states.size(1)
    sequence = torch.cat([encoder_hidden_states, hidden_states], dim=1)
    query = attn.to_q(sequence)
    key = attn.to_k(sequence)
    head_dim = key.shape[-1] // attn.heads
    query = query.view(1, -1, attn.heads, head_dim).transpose(1, 2)
    key = key.view(1, -1, attn.heads, head_dim).transpose(1, 2)
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    if image_rotary_emb is not None:
        from diffusers.models.embeddings import apply_rotary_emb

        query = query.clone()
        query[:, :, text_len:] = apply_rotary_emb(query[:, :, text_len:], image_rotary_emb)
        if not attn.is_cross_attention:
            key = key.clone()
            key[:, :, text_len:] = apply_rotary_emb(key[:, :, text_len:], image_rotary_emb)
    return query[0], key[0]


class _ProbingProcessor:
    """Calls the original processor, then reduces the conditional branch's attention on the side."""

    def __init__(self, inner: Any, probe: RepresentationProbe, block: int) -> None:
        self.inner = inner
        self.probe = probe
        self.block = block

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Any:
        output = self.inner(
            attn,
            hidden_states,
            encoder_hidden_states,
            attention_mask=attention_mask,
            image_rotary_emb=image_rotary_emb,
        )
        if self.probe.active:
            self.probe._record_attention(
                self.block,
                attn,
                hidden_states,
                encoder_hidden_states,
                attention_mask,
                image_rotary_emb,
            )
        return output


class _RecordingProcessor:
    """Non-CogVideoX families: calls the original processor with its attention call recorded."""

    def __init__(self, inner: Any, probe: RepresentationProbe, block: int) -> None:
        self.inner = inner
        self.probe = probe
        self.block = block

    def __call__(self, attn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.probe.active:
            return self.inner(attn, *args, **kwargs)
        output, calls = run_recording(self.inner, (attn, *args), kwargs)
        text_mask = _argument(args, kwargs, "attention_mask", 2)
        self.probe._record_recorded_attention(self.block, calls, text_mask)
        return output


def _recording_processor(inner: Any, probe: RepresentationProbe, block: int) -> Any:
    """A _RecordingProcessor whose ``__call__`` shows ``inner``'s signature.

    diffusers' attention modules drop keyword arguments (e.g. ``image_rotary_emb``) that the
    processor's signature does not name, so the wrapper must name the same ones.
    """
    inner_call = type(inner).__call__

    @functools.wraps(inner_call)
    def call(self: _RecordingProcessor, *args: Any, **kwargs: Any) -> Any:
        return _RecordingProcessor.__call__(self, *args, **kwargs)

    subclass = type(f"Recording{type(inner).__name__}", (_RecordingProcessor,), {"__call__": call})
    return subclass(inner, probe, block)


class RepresentationProbe:
    """Context manager that records diagnostics of a video transformer for one sampled video.

    ``steps``: 1-based sampler steps to reduce. ``guided``: whether the pipeline uses
    classifier-free guidance. ``sequential_cfg``: the pipeline calls the transformer once per
    branch, conditional first (Wan, HunyuanVideo, HunyuanVideo 1.5; see ``branch``), instead of
    batching (uncond, cond) in one call (CogVideoX, LTX-Video, Mochi). ``query_frame``: the frame whose attention map
    is kept (None keeps none). ``chunk_elements`` bounds the attention chunk (see attention_stats).
    ``experts``: further transformers of the same pipeline that share the step count (Wan 2.2
    A14B's low-noise ``transformer_2`` takes over at its boundary step); a step's records come
    from whichever transformer ran it, so block ``k`` is block ``k`` of that step's expert.
    """

    def __init__(
        self,
        transformer: torch.nn.Module,
        steps: set[int] | frozenset[int],
        guided: bool,
        query_frame: int | None = 0,
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
        attention: bool = True,
        sequential_cfg: bool = False,
        experts: Sequence[torch.nn.Module] = (),
    ) -> None:
        self.family = probe_family(transformer)
        for expert in experts:
            if probe_family(expert) != self.family:
                raise UserError(
                    f"the probes read one family per pipeline, got {type(transformer).__name__} "
                    f"and {type(expert).__name__}",
                    "Analyse pipelines whose transformers are one class.",
                )
        self.transformers = [transformer, *experts]
        self.transformer = transformer
        self.blocks = self.family.blocks(transformer)
        #: every probed transformer's blocks, in the order their hooks are installed
        self._block_lists = [self.family.blocks(t) for t in self.transformers]
        self.steps = frozenset(int(s) for s in steps)
        self.guided = guided
        self.query_frame = query_frame
        self.chunk_elements = int(chunk_elements)
        self.attention = attention
        self.sequential_cfg = sequential_cfg
        self._last_timestep: torch.Tensor | None = None
        self.captures = Captures()
        self.active = False
        #: batch row analysed in the current call (the conditional branch, see ``branch``)
        self.branch_row = 0
        self._handles: list[Any] = []
        self._original_processors: list[Any] = []

    # ------------------------------------------------------------------ install / remove

    def __enter__(self) -> RepresentationProbe:
        cogvideox = self.family.name == "cogvideox"
        if self.attention and cogvideox:
            for block in (b for blocks in self._block_lists for b in blocks):
                name = type(block.attn1.processor).__name__
                if name != SUPPORTED_PROCESSOR:
                    raise UserError(
                        f"attention diagnostics need diffusers' {SUPPORTED_PROCESSOR}, block uses {name}",
                        "Unfuse QKV projections / remove custom attention processors before analysing.",
                    )
        for transformer in self.transformers:
            self._handles.append(
                transformer.register_forward_pre_hook(self._on_transformer, with_kwargs=True)
            )
        for index, block in (pair for blocks in self._block_lists for pair in enumerate(blocks)):
            self._handles.append(
                block.register_forward_pre_hook(self._block_input_hook(index), with_kwargs=True)
            )
            self._handles.append(
                block.register_forward_hook(self._block_output_hook(index), with_kwargs=True)
            )
            if self.attention:
                attn = getattr(block, self.family.self_attention)
                self._original_processors.append(attn.processor)
                wrapper = _ProbingProcessor if cogvideox else _recording_processor
                attn.processor = wrapper(attn.processor, self, index)
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        blocks = [block for blocks in self._block_lists for block in blocks]
        for block, processor in zip(blocks, self._original_processors):
            getattr(block, self.family.self_attention).processor = processor
        self._original_processors.clear()
        self.active = False

    # ------------------------------------------------------------------ hooks

    def _on_transformer(
        self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.captures.calls += 1
        timestep = kwargs.get("timestep")
        if timestep is None:
            position = (
                list(inspect.signature(type(module).forward).parameters).index("timestep") - 1
            )
            timestep = args[position] if len(args) > position else None
        is_conditional = True
        if self.sequential_cfg and timestep is not None:
            # one call per CFG branch, conditional first: a new timestep starts a new step
            now = torch.as_tensor(timestep).detach()
            is_conditional = self._last_timestep is None or not torch.equal(
                now, self._last_timestep
            )
            self._last_timestep = now.clone()
        if is_conditional:
            self.captures.steps += 1
        step = self.captures.steps
        self.active = is_conditional and step in self.steps
        if not self.active:
            return
        latents = _argument(args, kwargs, *self.family.latents_arg)
        self.branch_row = conditional_row(latents.shape[0], self.guided and not self.sequential_cfg)
        self.captures.layout = self.family.layout(module.config, args, kwargs)
        if timestep is not None:
            t = torch.as_tensor(timestep)
            t = t[min(self.branch_row, t.shape[0] - 1)] if t.ndim else t
            self.captures.timesteps[step] = float(
                t.flatten().max()
            )  # per-token (Wan 2.2): the largest

    def _record_similarity(self, block: int, tensor: str, video: torch.Tensor) -> None:
        layout = self.captures.layout
        assert layout is not None
        frames = video[self.branch_row].detach().reshape(layout.frames, layout.tokens_per_frame, -1)
        self.captures.similarities.append(
            SimilarityCapture(self.captures.steps, block, tensor, adjacent_frame_similarity(frames))
        )

    def _block_input_hook(self, index: int) -> Any:
        def hook(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if self.active:
                self._record_similarity(
                    index, BLOCK_INPUT, _argument(args, kwargs, "hidden_states", 0)
                )

        return hook

    def _block_output_hook(self, index: int) -> Any:
        def hook(
            module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any
        ) -> None:
            if self.active:
                video = output[0] if isinstance(output, tuple) else output
                self._record_similarity(index, BLOCK_OUTPUT, video)

        return hook

    def _record_attention(
        self,
        block: int,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> None:
        layout = self.captures.layout
        assert layout is not None
        if attention_mask is not None:
            raise UserError(
                "attention diagnostics do not support attention masks",
                "Sample without an attention mask.",
            )
        row = slice(self.branch_row, self.branch_row + 1)
        with torch.no_grad():
            query, key = cogvideox_query_key(
                attn, hidden_states[row], encoder_hidden_states[row], image_rotary_emb
            )
            reduced = frame_attention(
                query, key, layout, self.query_frame, chunk_elements=self.chunk_elements
            )
        self.captures.attentions.append(AttentionCapture(self.captures.steps, block, reduced))

    def _record_recorded_attention(self, block: int, calls: list[Any], text_mask: Any) -> None:
        """Reduce the attention recorded from the model's own call (non-CogVideoX families)."""
        layout = self.captures.layout
        assert layout is not None
        with torch.no_grad():
            query, key, key_valid, scale = to_text_first(
                calls, self.branch_row, self.family.order, layout, text_mask
            )
            reduced = frame_attention(
                query,
                key,
                layout,
                self.query_frame,
                scale=scale,
                chunk_elements=self.chunk_elements,
                key_valid=key_valid,
            )
        self.captures.attentions.append(AttentionCapture(self.captures.steps, block, reduced))


@dataclass(frozen=True)
class GateInfo:
    """One RepVideo gate: its value and whether the block's input mix does anything."""

    block: int
    gate: float
    mixes: bool


def repvideo_gates(transformer: Any) -> list[GateInfo]:
    """Gate values and effective mixing per block; empty for a model without RepVideo.

    A block mixes when RepVideo is enabled, its cache holds more than one tensor (see
    ``repvideo.inactive_layers``) and its gate is not exactly 0 (the loop then skips the mix).
    """
    gates = getattr(transformer, "repvideo_gates", None)
    if gates is None:
        return []
    from repvideo_eval.repvideo import inactive_layers

    values = [float(v) for v in gates.detach().float().cpu().tolist()]
    inactive = set(inactive_layers(len(values), int(transformer.repvideo_cache_window)))
    enabled = bool(getattr(transformer, "repvideo_enabled", True))
    return [
        GateInfo(i, v, enabled and i not in inactive and v != 0.0) for i, v in enumerate(values)
    ]
