"""Development plans (the 40 % rule) and the rehousing optimiser."""
