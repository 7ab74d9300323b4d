"""The face-forgery model's pipeline: face crops, self-blended fakes, training, export (evaluation included)."""
