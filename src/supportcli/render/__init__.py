"""Output formats: Rich tables on a terminal, plain rows when piped, JSON and CSV. One place for all."""
