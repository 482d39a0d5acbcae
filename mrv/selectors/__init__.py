"""Selectors: every read the service makes, as keyword-only functions scoped by who asks."""
