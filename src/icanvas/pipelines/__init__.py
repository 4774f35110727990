"""Inference-only pipelines; modules are passed in, training code is never imported."""
