"""Evaluation: metrics (small pure functions) and reports."""
