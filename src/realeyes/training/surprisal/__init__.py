"""The real-only coding-cost detector (realeyes.models.coding_cost): a small lossless coder trained on real photos."""
