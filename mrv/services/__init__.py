"""Services: every write the service makes, as keyword-only functions (HackSoft Django-Styleguide)."""
