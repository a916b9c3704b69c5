"""The official area-list rule sets (2010, 2013, 2018, 2021) as YAML data files."""
