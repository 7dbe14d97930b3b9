"""Qt widgets, item models and operations: the only package that imports PySide6."""
