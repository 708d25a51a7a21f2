"""What the workers do: classify, locate, route, time limits and escalation."""
