"""One place search for the dispatcher's and the operator's pickers, backed by the router's matcher."""
