"""Registry aliases and serving variants, named once."""

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
