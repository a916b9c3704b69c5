"""Development-plan (40 % rule) and rehousing rule data (YAML files read by `boligmix.plan.rules`)."""
