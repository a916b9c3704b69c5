"""Versioned evaluation settings: programme-registry checks and the tryghed/trivsel survey index."""
