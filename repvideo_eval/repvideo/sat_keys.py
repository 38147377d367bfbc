"""Key mapping from the official SAT checkpoint (CogVideoX-2B + RepVideo) to diffusers.

Every SAT key of the diffusion transformer must match exactly one rule below; there is no
silent fallthrough. Facts (key names, the fused q/k/v layout, the order of the 12 adaLN chunks)
come from the official SAT model code (``sat/dit_video_concat.py``, ``sat/transformer_gating.py``)
and diffusers' CogVideoX transformer; the rules are written as explicit patterns rather than
ordered substring replacements, so an unknown key cannot be renamed by accident.

SAT layouts that need more than a rename:

- ``attention.query_key_value`` is q, k, v stacked along the output dimension -> three tensors.
- ``adaLN_modulations.<i>.1`` produces 12 chunks in the order (shift, scale, gate) x (attention,
  mlp) for video, then the same six for text. diffusers' ``norm1.linear`` takes the attention
  chunks (0-2 video, 6-8 text), ``norm2.linear`` the MLP chunks (3-5, 9-11).
- ``transformer.learnable_gating`` is RepVideo's gate vector; it becomes ``repvideo_gates``.
- ``mixins.pos_embed.pos_embedding`` is a fixed sin-cos table (``requires_grad=False``) derived
  from the config; diffusers recomputes it, so the converter checks it and drops it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from repvideo_eval.errors import UserError

SAT_PREFIX = "model.diffusion_model."
SAT_GATES_KEY = "transformer.learnable_gating"
SAT_POS_EMBED_KEY = "mixins.pos_embed.pos_embedding"

#: Prefixes of other models trained alongside the DiT in SAT's engine (VAE, text encoder); their
#: weights come from their own files, so the converter skips them by name and reports them.
NON_TRANSFORMER_PREFIXES = ("first_stage_model.", "conditioner.")


@dataclass
class MappedCheckpoint:
    """The SAT transformer split into what diffusers loads and what RepVideo carries."""

    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)
    gates: torch.Tensor | None = None
    pos_embedding: torch.Tensor | None = None
    skipped: list[str] = field(default_factory=list)


Handler = Callable[[re.Match[str], torch.Tensor, MappedCheckpoint], None]


def _rename(template: str) -> Handler:
    def handle(match: re.Match[str], tensor: torch.Tensor, out: MappedCheckpoint) -> None:
        out.state_dict[template.format(*match.groups())] = tensor

    return handle


def _split_qkv(match: re.Match[str], tensor: torch.Tensor, out: MappedCheckpoint) -> None:
    layer, kind = match.groups()
    if tensor.shape[0] % 3:
        raise UserError(
            f"SAT key {match.string} has {tensor.shape[0]} rows, not a multiple of 3 (q, k, v)"
        )
    for name, part in zip(("to_q", "to_k", "to_v"), torch.chunk(tensor, 3, dim=0)):
        out.state_dict[f"transformer_blocks.{layer}.attn1.{name}.{kind}"] = part


def _split_adaln(match: re.Match[str], tensor: torch.Tensor, out: MappedCheckpoint) -> None:
    layer, kind = match.groups()
    if tensor.shape[0] % 12:
        raise UserError(
            f"SAT key {match.string} has {tensor.shape[0]} rows, not 12 modulation chunks"
        )
    chunks = torch.chunk(tensor, 12, dim=0)
    out.state_dict[f"transformer_blocks.{layer}.norm1.linear.{kind}"] = torch.cat(
        chunks[0:3] + chunks[6:9]
    )
    out.state_dict[f"transformer_blocks.{layer}.norm2.linear.{kind}"] = torch.cat(
        chunks[3:6] + chunks[9:12]
    )


def _gates(match: re.Match[str], tensor: torch.Tensor, out: MappedCheckpoint) -> None:
    out.gates = tensor


def _pos_embedding(match: re.Match[str], tensor: torch.Tensor, out: MappedCheckpoint) -> None:
    out.pos_embedding = tensor


_P = r"(weight|bias)"
_L = r"transformer\.layers\.(\d+)\."
_A = r"mixins\.adaln_layer\."

#: (pattern over the key without SAT_PREFIX, handler); each SAT key must match exactly one.
RULES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(_L + r"input_layernorm\." + _P), _rename("transformer_blocks.{}.norm1.norm.{}")),
    (
        re.compile(_L + r"post_attention_layernorm\." + _P),
        _rename("transformer_blocks.{}.norm2.norm.{}"),
    ),
    (re.compile(_L + r"attention\.query_key_value\." + _P), _split_qkv),
    (
        re.compile(_L + r"attention\.dense\." + _P),
        _rename("transformer_blocks.{}.attn1.to_out.0.{}"),
    ),
    (
        re.compile(_L + r"mlp\.dense_h_to_4h\." + _P),
        _rename("transformer_blocks.{}.ff.net.0.proj.{}"),
    ),
    (re.compile(_L + r"mlp\.dense_4h_to_h\." + _P), _rename("transformer_blocks.{}.ff.net.2.{}")),
    (re.compile(r"transformer\.final_layernorm\." + _P), _rename("norm_final.{}")),
    (re.compile(re.escape(SAT_GATES_KEY)), _gates),
    (re.compile(_A + r"adaLN_modulations\.(\d+)\.1\." + _P), _split_adaln),
    (
        re.compile(_A + r"query_layernorm_list\.(\d+)\." + _P),
        _rename("transformer_blocks.{}.attn1.norm_q.{}"),
    ),
    (
        re.compile(_A + r"key_layernorm_list\.(\d+)\." + _P),
        _rename("transformer_blocks.{}.attn1.norm_k.{}"),
    ),
    (re.compile(r"mixins\.patch_embed\.proj\." + _P), _rename("patch_embed.proj.{}")),
    (re.compile(r"mixins\.patch_embed\.text_proj\." + _P), _rename("patch_embed.text_proj.{}")),
    (re.compile(re.escape(SAT_POS_EMBED_KEY)), _pos_embedding),
    (re.compile(r"time_embed\.0\." + _P), _rename("time_embedding.linear_1.{}")),
    (re.compile(r"time_embed\.2\." + _P), _rename("time_embedding.linear_2.{}")),
    (re.compile(r"mixins\.final_layer\.norm_final\." + _P), _rename("norm_out.norm.{}")),
    (re.compile(r"mixins\.final_layer\.linear\." + _P), _rename("proj_out.{}")),
    (re.compile(r"mixins\.final_layer\.adaLN_modulation\.1\." + _P), _rename("norm_out.linear.{}")),
]


def map_sat_state_dict(sat_state: Mapping[str, torch.Tensor]) -> MappedCheckpoint:
    """Map every SAT key; a UserError names the first key no rule (or a non-tensor) matches."""
    out = MappedCheckpoint()
    for key, tensor in sat_state.items():
        if key.startswith(NON_TRANSFORMER_PREFIXES):
            out.skipped.append(key)
            continue
        if not key.startswith(SAT_PREFIX):
            raise UserError(
                f"SAT checkpoint key {key!r} is outside the diffusion transformer ({SAT_PREFIX}*)",
                "This converter handles the RepVideo / CogVideoX-2B SAT transformer only.",
            )
        if not isinstance(tensor, torch.Tensor):
            raise UserError(
                f"SAT checkpoint key {key!r} holds a {type(tensor).__name__}, not a tensor"
            )
        short = key[len(SAT_PREFIX) :]
        matches = [(m, handler) for pattern, handler in RULES if (m := pattern.fullmatch(short))]
        if len(matches) != 1:
            raise UserError(
                f"SAT checkpoint key {key!r} has no conversion rule",
                "The checkpoint is not the CogVideoX-2B / RepVideo layout this converter knows.",
            )
        match, handler = matches[0]
        handler(match, tensor, out)
    return out


def infer_transformer_config(sat_state: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """The diffusers config values that the SAT tensor shapes determine."""

    def get(short: str) -> torch.Tensor:
        key = SAT_PREFIX + short
        if key not in sat_state:
            raise UserError(
                f"SAT checkpoint is missing key {key!r}",
                "Is this the RepVideo / CogVideoX-2B transformer?",
            )
        return sat_state[key]

    layer_ids = {
        int(m.group(1)) for k in sat_state if (m := re.match(re.escape(SAT_PREFIX) + _L, k))
    }
    if not layer_ids:
        raise UserError(
            "SAT checkpoint has no transformer.layers.* keys", "Is this a CogVideoX SAT checkpoint?"
        )
    hidden = get("transformer.layers.0.attention.query_key_value.weight").shape[1]
    head_dim = get("mixins.adaln_layer.query_layernorm_list.0.weight").shape[0]
    proj = get("mixins.patch_embed.proj.weight")  # Conv2d (hidden, in, p, p)
    patch = proj.shape[-1]
    return {
        "num_layers": max(layer_ids) + 1,
        "num_attention_heads": hidden // head_dim,
        "attention_head_dim": head_dim,
        "in_channels": proj.shape[1],
        "out_channels": get("mixins.final_layer.linear.weight").shape[0] // (patch * patch),
        "patch_size": patch,
        "text_embed_dim": get("mixins.patch_embed.text_proj.weight").shape[1],
        "time_embed_dim": get("time_embed.0.weight").shape[0],
    }
