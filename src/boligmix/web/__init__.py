"""FastAPI app: the letting API and the dashboard."""
