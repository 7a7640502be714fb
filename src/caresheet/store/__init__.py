"""Where sheets (and, beside them, handouts and check-ins) are kept: SQLite or PostgreSQL."""
