"""Official area lists (2010, 2013, 2018, 2021 rules): classification, explanations, margins, history."""
