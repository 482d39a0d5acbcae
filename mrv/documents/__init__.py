"""Documents the service generates (the copy of record)."""
