"""Weight files of the semantic dimensions, added to the tables of `scoring.weights`.

`weights.WEIGHT_FILES` / `DIMENSION_FILES` are the single source for downloads and checks; the
entries below join them when this module is imported, which every semantic loader does (and so
`fetch-weights`, which imports the scorer modules). No publisher gives a checksum for these
files, so `weights.verify` applies trust-on-first-download (lock file).
"""

from __future__ import annotations

from repvideo_eval.scoring.weights import DIMENSION_FILES, WEIGHT_FILES, WeightFile

_HF = "https://huggingface.co/OpenGVLab/VBench_Used_Models/resolve/main"

SEMANTIC_WEIGHT_FILES: tuple[WeightFile, ...] = (
    WeightFile(
        "viclip_internvid_10m_flt",
        "ViCLIP/ViClip-InternVid-10M-FLT.pth",
        f"{_HF}/ViClip-InternVid-10M-FLT.pth",
        approx_size="1.71 GB",
    ),
    WeightFile(
        "umt_l16_k400",
        "umt_model/l16_ptk710_ftk710_ftk400_f16_res224.pth",
        f"{_HF}/l16_ptk710_ftk710_ftk400_f16_res224.pth",
        approx_size="607 MB",
    ),
    WeightFile(
        "grit_b",
        "grit_model/grit_b_densecap_objectdet.pth",
        f"{_HF}/grit_b_densecap_objectdet.pth",
        approx_size="417 MB",
    ),
    # GRiT's text decoder speaks bert-base-uncased wordpieces; vbench's GRiT fetches this
    # tokenizer from the HF hub at build time, the grit-torch backend reads it from the cache.
    WeightFile(
        "bert_base_uncased_vocab",
        "grit_model/bert-base-uncased/vocab.txt",
        "https://huggingface.co/google-bert/bert-base-uncased/resolve/main/vocab.txt",
        approx_size="232 kB",
    ),
    WeightFile(
        "tag2text_swin_14m",
        "caption_model/tag2text_swin_14m.pth",
        "https://huggingface.co/spaces/xinyu1205/recognize-anything/resolve/main/tag2text_swin_14m.pth",
        approx_size="4.48 GB",
    ),
)

SEMANTIC_DIMENSION_FILES: dict[str, tuple[str, ...]] = {
    "appearance_style": ("clip_vit_b32",),
    "temporal_style": ("viclip_internvid_10m_flt",),
    "overall_consistency": ("viclip_internvid_10m_flt",),
    "human_action": ("umt_l16_k400",),
    # GRiT (grit-torch reads both files, grit-detectron2 the checkpoint); the OWLv2 backend
    # downloads through the HF hub instead.
    "object_class": ("grit_b", "bert_base_uncased_vocab"),
    "multiple_objects": ("grit_b", "bert_base_uncased_vocab"),
    "color": ("grit_b", "bert_base_uncased_vocab"),
    "spatial_relationship": ("grit_b", "bert_base_uncased_vocab"),
    "scene": ("tag2text_swin_14m",),
}


def register() -> None:
    """Add the entries above unless the tables already have them (idempotent)."""
    for spec in SEMANTIC_WEIGHT_FILES:
        WEIGHT_FILES.setdefault(spec.name, spec)
    for dimension, names in SEMANTIC_DIMENSION_FILES.items():
        DIMENSION_FILES.setdefault(dimension, names)


register()
