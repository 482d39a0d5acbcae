"""Domain helpers of the Django layer that need no database: provinces, canonical digests, line files."""
