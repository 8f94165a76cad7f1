"""Documents rules: pure functions, no nameko, no SQLAlchemy, no I/O (checked by import-linter).
They arrive with the documents issue."""
