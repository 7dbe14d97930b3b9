"""Tests against real services (PostgreSQL, server processes); marked ``integration``."""
