"""Reference data: divisions, industries, departments, routing table, time limits."""
