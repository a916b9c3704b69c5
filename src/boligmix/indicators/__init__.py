"""Person-level register data -> area, department and municipality indicators per year."""
