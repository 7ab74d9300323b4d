"""Training-side code: data preparation, synthesis, models, training, evaluation, export ([train] extra)."""
