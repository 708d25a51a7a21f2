"""Staff accounts and login."""
