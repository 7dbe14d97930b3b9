"""Accounts: create, list, enable and disable (the CLI and registration use these)."""

from gitwrite_sync.domain.users.service import UserService, normalize_email

__all__ = ["UserService", "normalize_email"]
