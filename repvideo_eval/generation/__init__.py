"""Generation: pipelines for real and tiny models, work items, video writing, seeds."""
