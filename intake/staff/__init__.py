"""Department and township staff: queues and actions on a case."""
