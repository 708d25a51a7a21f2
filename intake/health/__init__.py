"""Health and metrics for machines: /healthz, /readyz, /metrics (README: Health and metrics)."""
