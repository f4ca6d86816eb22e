"""Evaluation sets (``evals/data``) and the harnesses that score them."""
