"""Model builders for the semantic dimensions (ViCLIP, UMT). Architectures are vbench's own
third-party code, imported; loading, tiny twins and the forward glue are ours."""
