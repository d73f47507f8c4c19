"""Schema migrations with Alembic, callable from code (set-up, tests) and from the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is an INI file: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creates the tables on a new database)."""
    command.upgrade(alembic_config(url), revision)


def new_revision(url: str, message: str) -> None:
    """Write a migration for the difference between the models and the database (developers)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
