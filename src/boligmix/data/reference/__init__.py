"""Reference tables shipped as package data (municipalities, countries with the DST western grouping)."""
