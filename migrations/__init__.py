"""Alembic migrations of the platform tables (a package so installs ship it)."""
