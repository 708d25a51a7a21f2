"""Cases: intake on every channel, lookup, the state table."""
