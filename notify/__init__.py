"""Messages out: SMS and mail behind one interface, templates as data, sending jobs."""
