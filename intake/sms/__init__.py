"""SMS in: the gateway's webhook, commands, and messages that become cases."""
