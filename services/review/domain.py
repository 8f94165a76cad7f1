"""Review rules: pure functions, no nameko, no SQLAlchemy, no I/O (checked by import-linter).
They arrive with the review issue."""
