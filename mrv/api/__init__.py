"""The HTTP API (Django REST framework): parsers, renderers, problem documents, views and URLs."""
