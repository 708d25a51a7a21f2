"""Errors a case action raises for the user to read."""


class ActionError(Exception):
    """An action the user may not take now; the message is for the user."""
