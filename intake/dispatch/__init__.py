"""The dispatcher's triage queue: route by hand what the machine would not, merge duplicates."""
