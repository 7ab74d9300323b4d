"""Training-side code: data preparation, synthesis, models, training, evaluation and export (needs the [train] extra)."""
