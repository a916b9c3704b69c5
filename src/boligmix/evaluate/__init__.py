"""Evaluation of programmes and letting tools: registries, surveys, panels, estimators."""
