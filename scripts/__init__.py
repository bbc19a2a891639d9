"""Developer scripts (run by the Makefile); a package so tests can import their helpers."""
