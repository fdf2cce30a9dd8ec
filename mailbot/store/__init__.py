"""Persistence: SQLModel tables, engine setup and read queries."""
