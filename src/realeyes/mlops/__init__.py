"""MLOps around the served models: drift monitoring and the retraining loop."""
