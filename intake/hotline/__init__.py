"""The hotline: calls announced by the phone system, taken by operators on the console."""
