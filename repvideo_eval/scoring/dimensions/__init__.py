"""One module per VBench dimension; see `repvideo_eval.scoring.dimension_registry`."""
