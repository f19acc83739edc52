"""Persistence: SQLModel tables, engine and session set-up, queries. SQLite and PostgreSQL."""
