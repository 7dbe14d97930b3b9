"""GitWrite desktop app: `core` (no Qt) and `ui` (the only place PySide6 is imported)."""
