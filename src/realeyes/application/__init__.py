"""The application layer under every front door: analyse a file and store its result, the file store, uploads,
analysis isolation, the deployment's settings, metrics and logs. The HTTP service, the job workers and the MLOps
commands build on it, never on each other (tests/unit/test_layering.py)."""
