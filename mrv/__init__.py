"""The Django app of the MRV service: models, services, selectors, API, tasks and admin."""
