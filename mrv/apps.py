from django.apps import AppConfig


class MrvConfig(AppConfig):
    name = "mrv"
    verbose_name = "MRV"

    def ready(self) -> None:
        import accounting

        # Load and check every methodology bundle now: a bundle naming a missing method or
        # lacking a default fails at start-up, never at request time.
        accounting.load_all()
