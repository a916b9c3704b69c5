"""Social mix: composition of stock, in-movers and out-movers, flows and segregation indices."""
