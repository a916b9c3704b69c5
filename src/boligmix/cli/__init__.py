"""The `boligmix` command line: thin Typer commands that call the library."""
