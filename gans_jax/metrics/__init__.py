"""Evaluation metrics: pure functions on arrays or feature statistics, plus thin evaluators."""
