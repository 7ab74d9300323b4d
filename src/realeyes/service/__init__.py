"""The HTTP service: a FastAPI app around the Engine. No detection logic lives here."""
