"""The Typer command line: parse options, call core and store, render. Nothing else."""
