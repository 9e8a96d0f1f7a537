"""The audit log as a hash chain, on SQLite and PostgreSQL: changes are recorded with before and after
(secrets masked), `va audit verify` finds a row edited or removed in the database, the chain holds
when a tenant is deleted and when changes are written at the same time; filters and export."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from virtuele_assistent.audit.service import AuditFilter, as_csv, list_entries, verify_chain
from virtuele_assistent.cli import app
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings, get_settings
from virtuele_assistent.storage.models import AuditLogEntry
from virtuele_assistent.tenants.schemas import TenantCreate, TenantUpdate
from virtuele_assistent.tenants.service import create_tenant, delete_tenant, update_tenant


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """`va` commands in this process, on the same database as ``services``."""
    settings = services.settings
    monkeypatch.setenv("VA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VA_LOG_LEVEL", "WARNING")
    if settings.database_url:
        monkeypatch.setenv("VA_DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("VA_DATABASE_SCHEMA", settings.database_schema)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _changes(services: Services) -> None:
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"), actor="anna@meppel.nl")
    create_tenant(services.db, TenantCreate(slug="hoorn", name="Gemeente Hoorn"), actor="piet@hoorn.nl")
    update_tenant(
        services.db,
        "meppel",
        TenantUpdate.model_validate(
            {"form_of_address": "je", "settings": {"handover_webhook_secret": "geheim-1234567890abcdef"}}
        ),
        actor="anna@meppel.nl",
    )


def test_changes_are_recorded_with_before_and_after_and_the_chain_holds(
    services: Services, cli: CliRunner
) -> None:
    _changes(services)
    update = list_entries(services.db, AuditFilter(action="tenant.update"))
    assert len(update) == 1
    details = update[0].details
    assert details["before"]["form_of_address"] == "u" and details["after"]["form_of_address"] == "je"
    assert details["after"]["settings"]["handover_webhook_secret"] == "[verborgen]"
    assert "geheim-1234567890abcdef" not in json.dumps(details)
    assert update[0].tenant == "meppel" and update[0].actor == "anna@meppel.nl"

    report = verify_chain(services.db)
    assert report.intact and report.checked == 3
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 entries" in result.output, result.output


def test_a_row_edited_in_the_database_breaks_the_chain_at_that_row(
    services: Services, cli: CliRunner
) -> None:
    _changes(services)
    with services.db.session() as session:
        ids = list(session.scalars(sa.select(AuditLogEntry.id).order_by(AuditLogEntry.id)))
    with services.db.engine.begin() as connection:  # someone covers their tracks
        connection.execute(
            sa.update(AuditLogEntry).where(AuditLogEntry.id == ids[1]).values(actor="iemand-anders@hoorn.nl")
        )
    report = verify_chain(services.db)
    assert report.broken_at == ids[1] and report.checked == 1 and "veranderd" in report.reason
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {ids[1]}" in result.output, result.output


def test_a_row_removed_from_the_database_breaks_the_chain_at_the_next(services: Services) -> None:
    _changes(services)
    with services.db.session() as session:
        ids = list(session.scalars(sa.select(AuditLogEntry.id).order_by(AuditLogEntry.id)))
    with services.db.engine.begin() as connection:
        connection.execute(sa.delete(AuditLogEntry).where(AuditLogEntry.id == ids[1]))
    report = verify_chain(services.db)
    assert report.broken_at == ids[2] and "verwijderd" in report.reason


def test_deleting_a_tenant_keeps_its_entries_and_the_chain(services: Services) -> None:
    _changes(services)
    delete_tenant(services.db, services.store, "hoorn", lease_s=60, actor="platform@example.nl")
    assert verify_chain(services.db).intact
    hoorn = list_entries(services.db, AuditFilter(tenants=("hoorn",)))
    assert [entry.action for entry in hoorn] == ["tenant.create"]


def test_changes_written_at_the_same_time_make_one_chain(services: Services) -> None:
    errors: list[BaseException] = []

    def create(number: int) -> None:
        try:
            data = TenantCreate(slug=f"gemeente-{number}", name=f"Gemeente {number}")
            create_tenant(services.db, data, actor=f"medewerker{number}@example.nl")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = verify_chain(services.db)
    assert report.intact and report.checked == 8


def test_filters_and_export(services: Services, cli: CliRunner) -> None:
    _changes(services)
    create_tenant(services.db, TenantCreate(slug="edam", name="Gemeente Edam"), actor="=HYPERLINK(1)")
    assert {e.tenant for e in list_entries(services.db, AuditFilter(tenants=("meppel",)))} == {"meppel"}
    assert len(list_entries(services.db, AuditFilter(actor="ANNA"))) == 2
    assert len(list_entries(services.db, AuditFilter(action="tenant."))) == 4
    assert list_entries(services.db, AuditFilter(action="tenant.")) == list_entries(
        services.db, AuditFilter(action="tenant")
    )
    today = date.today()
    assert len(list_entries(services.db, AuditFilter(since=today - timedelta(days=1), until=today))) == 4
    assert list_entries(services.db, AuditFilter(since=today + timedelta(days=2))) == []

    rows = list(csv.DictReader(io.StringIO(as_csv(list_entries(services.db, AuditFilter())))))
    assert rows[0]["actor"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, does not run it
    assert {row["tenant"] for row in rows} == {"meppel", "hoorn", "edam"}

    exported = cli.invoke(app, ["audit", "list", "--tenant", "meppel", "--format", "json"])
    assert exported.exit_code == 0, exported.output
    assert [entry["action"] for entry in json.loads(exported.output)] == ["tenant.update", "tenant.create"]
    table = cli.invoke(app, ["audit", "list", "--actor", "piet"])
    assert table.exit_code == 0 and "hoorn" in table.output
    bad = cli.invoke(app, ["audit", "list", "--since", "gisteren"])
    assert bad.exit_code == 2


def test_the_upgrade_chains_the_entries_already_there(settings: Settings) -> None:
    from virtuele_assistent.storage.db import Database

    db = Database(settings)
    try:
        db.upgrade("0007_tenant_settings")
        with db.engine.begin() as connection:
            for number, details in enumerate(({"settings": {"handover_webhook_secret": "oud-geheim"}}, {})):
                connection.execute(
                    sa.text(
                        "INSERT INTO audit_log (actor, action, target_type, target_id, details, created_at) "
                        "VALUES ('cli', 'tenant.update', 'tenant', 'meppel', :details, :at)"
                    ),
                    {"details": json.dumps(details), "at": f"2026-0{number + 1}-01 10:00:00.5"},
                )
        db.upgrade()
        report = verify_chain(db)
        assert report.intact and report.checked == 2
        entries = list_entries(db, AuditFilter())
        assert "oud-geheim" not in json.dumps([e.details for e in entries])
        with db.session() as session:
            assert session.scalar(sa.text("SELECT count(*) FROM roles WHERE name = 'analist'")) == 1
    finally:
        db.dispose()


def test_the_api_shows_a_municipality_only_its_own_entries(services: Services) -> None:
    import httpx

    from tests.conftest import LiveServer
    from virtuele_assistent.api.app import create_app
    from virtuele_assistent.auth.users import create_user

    _changes(services)
    user = create_user(services.db, "pim@meppel.nl", "een-lang-wachtwoord", roles=[("privacy", "meppel")])
    staff = {"Authorization": f"Bearer {services.tokens.issue_staff(user.id)}"}
    admin = {"Authorization": f"Bearer {services.settings.admin_token}"}
    with LiveServer(create_app(services.settings, services)) as server:
        own = httpx.get(f"{server.url}/api/v1/tenants/meppel/audit", headers=staff)
        assert own.status_code == 200 and {e["tenant"] for e in own.json()} == {"meppel"}
        assert httpx.get(f"{server.url}/api/v1/tenants/hoorn/audit", headers=staff).status_code == 403
        assert httpx.get(f"{server.url}/api/v1/audit", headers=staff).status_code == 403
        everything = httpx.get(f"{server.url}/api/v1/audit", params={"tenant": "hoorn"}, headers=admin)
        assert [e["action"] for e in everything.json()] == ["tenant.create"]
        exported = httpx.get(
            f"{server.url}/api/v1/tenants/meppel/audit",
            params={"format": "csv", "actor": "anna"},
            headers=staff,
        )
        assert exported.headers["content-type"].startswith("text/csv")
        assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 2
        bad = httpx.get(f"{server.url}/api/v1/tenants/meppel/audit", params={"since": "0"}, headers=staff)
        assert bad.status_code == 422 and "jjjj-mm-dd" in bad.text
