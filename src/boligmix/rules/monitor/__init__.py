"""Monitoring indicator sets (legal, legal-no-ethnicity, aarhus) as YAML data files (boligmix.monitor.sets)."""
