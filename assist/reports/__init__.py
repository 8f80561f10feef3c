"""Staff reports: programme figures, charts with tables, coverage grid, CSV exports, funder pack."""
