"""Unit tests of the sync server (no services)."""
