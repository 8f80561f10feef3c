"""``flask`` commands: thin wrappers over the services."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa

from assist.auth import services as auth_services
from assist.directory import services as directory_services
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.errors import ValidationFailed
from assist.extensions import db
from assist.roles import Role


def _fail(exc: ValidationFailed) -> None:
    lines = [f"  {field}: {' '.join(msgs)}" for field, msgs in exc.errors.items()]
    raise click.ClickException("\n".join([exc.message, *lines]))


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--authority", help="Local authority name (city officials).")
@click.option("--organisation", help="Expert organisation name (experts).")
@click.password_option(help="Prompted for when not given; at least 12 characters.")
def create_user(
    email: str, name: str, role: str, authority: str | None, organisation: str | None, password: str
) -> None:
    """Create an account."""
    authority_id = organisation_id = None
    if authority:
        authority_id = db.session.scalar(
            sa.select(LocalAuthority.id).where(LocalAuthority.name == authority)
        )
        if authority_id is None:
            raise click.ClickException(f"No local authority named {authority!r}.")
    if organisation:
        organisation_id = db.session.scalar(
            sa.select(ExpertOrganisation.id).where(ExpertOrganisation.name == organisation)
        )
        if organisation_id is None:
            raise click.ClickException(f"No expert organisation named {organisation!r}.")
    data = auth_services.UserData(
        email=email,
        name=name,
        role=Role(role),
        authority_id=authority_id,
        organisation_id=organisation_id,
    )
    try:
        user = auth_services.create_user(None, data, password)
    except ValidationFailed as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Created {user.role.label} {user.email} (id {user.id}).")


@click.command("sync-taxonomy")
def sync_taxonomy() -> None:
    """Load the controlled vocabulary from assist/directory/taxonomy.json (idempotent)."""
    counts = directory_services.sync_taxonomy()
    db.session.commit()
    click.echo("Taxonomy: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the PREPARE partners, example requests and one demo account per role (idempotent)."""
    from assist.demo import seed

    password = os.environ.get("DEMO_PASSWORD", "prepare-demo-2026")
    summary = seed(password)
    db.session.commit()
    click.echo("Demo data: " + ", ".join(f"{v} {k}" for k, v in summary.items()))
    click.echo("Demo data is for local use only; every demo account uses DEMO_PASSWORD.")


commands = (create_user, sync_taxonomy, seed_demo)


@click.command("rebuild-index")
def rebuild_index() -> None:
    """Rebuild the expert-matching index now; every worker picks up the new version stamp."""
    from assist.engagements import ranking

    stamp = ranking.bump_stamp()
    db.session.commit()
    index = ranking.fitted()
    count = len(index.names)
    click.echo(f"Matching index {stamp} built over {count} active expert organisation(s).")


commands = (*commands, rebuild_index)


@click.command("apply-retention")
@click.option(
    "--days",
    type=click.IntRange(min=30),
    help="Anonymise closed requests unchanged for this many days (default: RETENTION_DAYS).",
)
def apply_retention(days: int | None) -> None:
    """Anonymise closed requests past the retention period: free text removed, statistics kept."""
    from flask import current_app

    from assist.dataprotection import apply_retention as run

    days = days or current_app.config["RETENTION_DAYS"]
    count = run(days)
    db.session.commit()
    click.echo(f"Anonymised {count} closed request(s) unchanged for more than {days} days.")


commands = (*commands, apply_retention)
