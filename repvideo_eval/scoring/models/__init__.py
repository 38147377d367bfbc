"""Model builders: official checkpoints (vbench names) and tiny random twins for offline demos."""
