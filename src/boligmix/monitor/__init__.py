"""Monitoring and early warning: indicator sets, scoring, forecasts, receiving areas."""
