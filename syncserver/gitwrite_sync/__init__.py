"""GitWrite sync server."""
