"""The administrator's pages: warnings to act on, time-limit policies and the holiday calendar."""
