"""Detector backends for the four VBench detection dimensions (object_class, multiple_objects,
color, spatial_relationship): GRiT in plain PyTorch (`grit_torch`, the default), vbench's own
GRiT code (`grit.py`, needs detectron2) and OWLv2 (transformers).

All return `semantic_rules.FrameDetections`; the VBench rules live in `semantic_rules` and do
not know which detector ran. `select.load_detector` picks the backend; every record names it.
"""
