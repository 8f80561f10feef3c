"""The schema comes only from migrations: they match the models and go down and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from assist.extensions import db
from tests.conftest import ROOT, TEST_DATABASE_URL, backends, make_app

MIGRATIONS = str(ROOT / "migrations")


def scratch_postgres_url() -> str:
    """A database of its own, so this test never disturbs the suite's shared one."""
    url = sa.engine.make_url(TEST_DATABASE_URL)
    name = f"{url.database}_migrations"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=backends())
def fresh_app(request, tmp_path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite" else scratch_postgres_url()
    application = make_app(url)
    yield application
    with application.app_context():
        db.engine.dispose()


def table_names(app: Flask) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_models_and_migrations_agree(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
    created = table_names(fresh_app)
    assert {"users", "assistance_requests", "audit_entries", "taxonomy_terms"} <= created
    with fresh_app.app_context():
        downgrade(directory=MIGRATIONS, revision="base")
    assert table_names(fresh_app) == set()
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
    assert table_names(fresh_app) == created
