"""Letting: waiting lists and letting tools as rules (the engine, pure and in memory), the
decision log and its explanations. The SQLAlchemy store and the API build on `model`."""
