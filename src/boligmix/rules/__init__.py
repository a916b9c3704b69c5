"""Rule sets as versioned data files and the one small evaluator that reads them."""
