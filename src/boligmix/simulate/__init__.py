"""Household microsimulation of moves, vacancy chains and policy scenarios."""
