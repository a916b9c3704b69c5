"""Letting: waiting lists and letting tools as rules, the letting store and its audit trail."""
