"""Monitoring and early warning: indicator sets, status and trend per unit, forecasts of next
year's lists with a backtest, and the receiving-area (waterbed) watch."""
