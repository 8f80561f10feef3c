"""Command-line tools and configuration from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from assist.auth.models import User
from assist.config import ConfigError, load_config
from assist.demo import AUTHORITIES, DEMO_USERS, ORGANISATIONS, seed
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.roles import Role
from assist.workflow import RequestStatus
from tests.factories import make_authority


def test_create_user_command(app) -> None:
    authority = make_authority("Bagnolet", country="FR")
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "Cli@Assist.example",
            "--name",
            "CLI official",
            "--role",
            "city_official",
            "--authority",
            "Bagnolet",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.email == "cli@assist.example")).one()
    assert user.authority_id == authority.id and user.role == Role.CITY_OFFICIAL


def test_create_user_command_explains_errors(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "a@b.example",
            "--name",
            "X",
            "--role",
            "city_official",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code != 0 and "must belong to a local authority" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "a@b.example",
            "--name",
            "X",
            "--role",
            "expert",
            "--organisation",
            "Nope",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code != 0 and "No expert organisation named 'Nope'" in result.output


def test_seed_demo_is_complete_and_idempotent(app) -> None:
    first = seed("demo password 2026")
    assert first["authorities"] == len(AUTHORITIES) and first["organisations"] == len(ORGANISATIONS)
    assert seed("demo password 2026") == {
        "authorities": 0,
        "organisations": 0,
        "users": 0,
        "requests": 0,
    }
    for email, _, role, *_ in DEMO_USERS:
        assert db.session.scalars(sa.select(User).where(User.email == email)).one().role == role
    statuses = set(db.session.scalars(sa.select(AssistanceRequest.status)))
    assert {RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN} <= statuses
    assert db.session.scalar(sa.select(sa.func.count(LocalAuthority.id))) >= 7
    vpn = db.session.scalars(
        sa.select(ExpertOrganisation).where(
            ExpertOrganisation.name == "Violence Prevention Network"
        )
    ).one()
    assert "de" in vpn.codes("language")


def test_production_requires_a_secret_key(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ASSIST_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(tmp_path)


def test_development_generates_and_keeps_a_secret_key(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ASSIST_ENV", "development")
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32 and load_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_settings(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSIST_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal/assist")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("FOUR_EYES", "true")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/assist"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert config["FOUR_EYES"] is True
    monkeypatch.delenv("DATABASE_URL")
    assert load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'assist.db'}"
    monkeypatch.setenv("ASSIST_ENV", "staging")
    with pytest.raises(ConfigError, match="ASSIST_ENV must be"):
        load_config(tmp_path)
