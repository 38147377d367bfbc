"""The port's text decoder against vbench's own (TransformerDecoderTextualHead + GRiTTextDecoder +
AutoRegressiveBeamSearch, loaded without detectron2), with the same live random weights."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from repvideo_eval.scoring.detection.grit_torch.config import GRIT_B
from repvideo_eval.scoring.detection.grit_torch.text_decoder import TextDecoder

from .vbench_pieces import load

CONFIG = dataclasses.replace(
    GRIT_B, text_hidden=64, text_layers=2, text_heads=4, text_ffn=128, vocab_size=300
)
END = CONFIG.end_token


def vbench_decoder(begin: int, max_steps: int = 40):
    text = load("text", "text_decoder")
    head = text.TransformerDecoderTextualHead(
        object_feature_size=CONFIG.fpn_channels,
        vocab_size=CONFIG.vocab_size,
        hidden_size=CONFIG.text_hidden,
        num_layers=CONFIG.text_layers,
        attention_heads=CONFIG.text_heads,
        feedforward_size=CONFIG.text_ffn,
        mask_future_positions=True,
        padding_idx=0,
        decoder_type="bert_en",
        use_act_checkpoint=False,
    )
    search = text.AutoRegressiveBeamSearch(
        end_token_id=END, max_steps=max_steps, beam_size=1, objectdet=True, per_node_beam_size=1
    )
    return text.GRiTTextDecoder(head, beamsearch_decode=search, begin_token_id=begin).eval()


def port_twin(reference, **changes) -> TextDecoder:
    port = TextDecoder(dataclasses.replace(CONFIG, **changes)).eval()
    state = {f"textual.{k}": v for k, v in reference.textual.state_dict().items()}
    port.load_state_dict(state, strict=True)
    return port


def make_live(reference) -> None:
    """Weights large enough that the memory and earlier tokens steer each step, so captions of
    one batch end at different lengths (random BERT init, std 0.02, repeats one pattern)."""
    with torch.no_grad():
        for name, parameter in reference.textual.named_parameters():
            if name.endswith("weight") and parameter.ndim == 2:
                parameter.normal_(0.0, 0.3)
        reference.textual.output.bias[END] = 2.0


@pytest.mark.parametrize("begin", [CONFIG.objectdet_begin_token, CONFIG.densecap_begin_token])
def test_live_decoder_equals_vbench(begin):
    torch.manual_seed(101)
    reference = vbench_decoder(begin)
    make_live(reference)
    port = port_twin(reference)
    memory = torch.randn(6, 16, CONFIG.fpn_channels)  # vbench's is 196 tokens; any length runs
    with torch.no_grad():
        expected = reference({"object_features": memory})
        decoded = port(memory, begin)
    assert torch.equal(decoded.tokens, expected["predictions"])
    lengths = {int((row != END).sum()) for row in decoded.tokens}
    assert len(lengths) > 1, "every caption had the same length: the case is too easy"
    assert torch.allclose(decoded.logprobs, expected["logprobs"], atol=1e-5, rtol=0)
    assert decoded.margins.shape == (6, decoded.tokens.shape[1] - 1)


def test_forty_token_cap_equals_vbench():
    torch.manual_seed(5)
    reference = vbench_decoder(CONFIG.objectdet_begin_token)
    with torch.no_grad():
        reference.textual.output.bias[END] = -50.0  # never ends on its own
    port = port_twin(reference)
    memory = torch.randn(3, 16, CONFIG.fpn_channels)
    with torch.no_grad():
        expected = reference({"object_features": memory})
        decoded = port(memory, CONFIG.objectdet_begin_token)
    assert decoded.tokens.shape == (3, 40) and torch.equal(decoded.tokens, expected["predictions"])
    assert torch.allclose(decoded.logprobs, expected["logprobs"], atol=1e-5, rtol=0)


def test_end_token_first_for_every_region_returns_early_like_vbench():
    torch.manual_seed(6)
    reference = vbench_decoder(CONFIG.objectdet_begin_token)
    with torch.no_grad():
        reference.textual.output.bias[END] = 60.0
    port = port_twin(reference)
    memory = torch.randn(4, 16, CONFIG.fpn_channels)
    with torch.no_grad(), pytest.warns(RuntimeWarning):
        expected = reference({"object_features": memory})
    decoded = port(memory, CONFIG.objectdet_begin_token)
    # vbench returns the end token alone (no begin token) and un-normalised (n, 1) log-probs
    assert decoded.tokens.tolist() == [[END]] * 4
    assert torch.equal(decoded.tokens, expected["predictions"])
    assert decoded.logprobs.shape == expected["logprobs"].shape == (4, 1)
    assert torch.allclose(decoded.logprobs, expected["logprobs"], atol=1e-6, rtol=0)
