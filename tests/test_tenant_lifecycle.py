"""A tenant's whole life over the API and the CLI: changed in part, shown, deleted with everything
it held, on SQLite + local Qdrant and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.chat_helpers import setup_tenant
from tests.conftest import LiveServer
from tests.test_ingest_and_search import write_site
from virtuele_assistent.cli import app
from virtuele_assistent.conversations.handover import create_request
from virtuele_assistent.crawl.sources import SourceCreate, create_source
from virtuele_assistent.jobs.service import create_crawl_job
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import AuditLogEntry, Base, Chunk, Job, UnitVector, utcnow
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

ADMIN = {"Authorization": "Bearer test-admin-token-123"}


def _with_everything(services: Services, base: str, tmp_path: Path) -> int:
    """Meppel with pages, a source and a queued crawl, a conversation with feedback and a handover."""
    tenant_id = setup_tenant(services, tmp_path)
    source = create_source(
        services.db, tenant_id, SourceCreate(name="website", start_urls=["https://www.meppel.nl/"]), "test"
    )
    create_crawl_job(services.db, tenant_id, source.id, trigger="test")
    turn = httpx.post(
        f"{base}/api/v1/tenants/meppel/chat", json={"question": "Wat kost een paspoort?"}, timeout=60
    )
    assert turn.status_code == 200, turn.text
    body = turn.json()
    resident = {"Authorization": f"Bearer {body['session_token']}"}
    feedback = httpx.post(
        f"{base}/api/v1/tenants/meppel/feedback",
        json={"message_id": body["message_id"], "rating": "up"},
        headers=resident,
    )
    assert feedback.status_code == 201, feedback.text
    create_request(services.db, get_profile(services.db, "meppel"), body["conversation_id"])
    return tenant_id


def _rows_of(services: Services, tenant_id: int) -> dict[str, int]:
    """Rows that point at the tenant, in every table with a tenant_id, and its chunks' unit vectors."""
    counts = {}
    with services.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" in table.c and table.name != "audit_log":
                counts[table.name] = connection.scalar(
                    sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
                )
        counts["tenants"] = connection.scalar(
            sa.text("SELECT count(*) FROM tenants WHERE id = :i"), {"i": tenant_id}
        )
    return counts


def test_settings_change_in_part_and_the_secret_never_shows(
    live_server: LiveServer, services: Services
) -> None:
    api = f"{live_server.url}/api/v1/tenants"
    created = httpx.post(api, headers=ADMIN, json={"slug": "dalfsen", "name": "Gemeente Dalfsen"})
    assert created.status_code == 201 and created.json()["settings"]["retention_days"] is None

    def patch(body: dict) -> httpx.Response:
        return httpx.patch(f"{api}/dalfsen", headers=ADMIN, json=body)

    assert patch({"settings": {"retention_days": 30, "languages": ["en"]}}).status_code == 200
    changed = patch({"settings": {"widget": {"greeting": "Welkom in Dalfsen!"}}}).json()["settings"]
    assert changed["retention_days"] == 30 and changed["languages"] == ["nl", "en"]  # kept
    assert changed["widget"]["greeting"] == "Welkom in Dalfsen!"
    changed = patch({"settings": {"widget": {"theme": {"--va-color-primary": "#00f"}}}}).json()["settings"]
    assert changed["widget"]["greeting"] == "Welkom in Dalfsen!"  # a widget setting changes alone
    reset = patch({"settings": {"retention_days": None}}).json()["settings"]
    assert reset["retention_days"] is None and reset["languages"] == ["nl", "en"]
    profile = get_profile(services.db, "dalfsen")
    assert (
        profile.settings.widget.greeting == "Welkom in Dalfsen!" and profile.settings.retention_days is None
    )

    refused = patch({"settings": {"answer_backend": "gpt4"}})
    assert refused.status_code == 422
    assert "'settings.answer_backend' 'gpt4' is geen bekende antwoordmotor" in refused.json()["detail"]
    assert patch({"settings": {"retention_days": 0}}).status_code == 422
    assert get_profile(services.db, "dalfsen").settings == profile.settings  # nothing changed

    secret = "kcc-geheim-0123456789abcdef"
    with_secret = patch(
        {"settings": {"handover_webhook_url": "https://kcc.dalfsen.nl/in", "handover_webhook_secret": secret}}
    )
    assert with_secret.status_code == 200
    shown = with_secret.json()
    assert (
        shown["settings"]["handover_webhook_secret"] is None and shown["handover_webhook_secret_set"] is True
    )
    assert get_profile(services.db, "dalfsen").settings.handover_webhook_secret == secret
    listed = httpx.get(api, headers=ADMIN)
    assert secret not in listed.text and secret not in httpx.get(f"{api}/dalfsen").text
    with services.db.session() as session:
        audit = session.scalars(
            sa.select(AuditLogEntry.details).where(AuditLogEntry.action == "tenant.update")
        ).all()
    assert audit and secret not in str(audit) and "[verborgen]" in str(audit)

    public = httpx.get(f"{api}/dalfsen").json()
    assert set(public) == {"slug", "name", "form_of_address", "contact"}  # no settings, no origins


def test_delete_leaves_nothing_of_the_tenant_and_keeps_the_others(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    api = f"{live_server.url}/api/v1/tenants"
    meppel = _with_everything(services, live_server.url, tmp_path)
    create_tenant(services.db, TenantCreate(slug="staphorst", name="Gemeente Staphorst"))
    staphorst = get_profile(services.db, "staphorst").id
    site = write_site(
        tmp_path / "staphorst",
        "Staphorst",
        {"afval.html": ("Afval", "<p>De groene bak wordt elke week geleegd.</p>")},
    )
    services.indexer.ingest_path(staphorst, site, "https://www.staphorst.nl/")
    assert (
        httpx.post(
            f"{api}/staphorst/chat", json={"question": "Wanneer wordt de groene bak geleegd?"}, timeout=60
        ).status_code
        == 200
    )

    before = _rows_of(services, meppel)
    assert all(
        before[t]
        for t in (
            "documents",
            "chunks",
            "conversations",
            "messages",
            "feedback",
            "handover_requests",
            "jobs",
            "sources",
        )
    )
    with services.db.session() as session:
        meppel_units = session.scalar(
            sa.select(sa.func.count()).select_from(UnitVector).join(Chunk).where(Chunk.tenant_id == meppel)
        )
    assert meppel_units and services.store.count(meppel) > 0
    others = (_rows_of(services, staphorst), services.store.count(staphorst))

    assert httpx.delete(f"{api}/meppel").status_code == 401
    deleted = httpx.delete(f"{api}/meppel", headers=ADMIN)
    assert deleted.status_code == 204, deleted.text

    assert set(_rows_of(services, meppel).values()) == {0}
    assert services.store.count(meppel) == 0
    with services.db.session() as session:
        orphans = session.scalar(
            sa.select(sa.func.count()).select_from(UnitVector).outerjoin(Chunk).where(Chunk.id.is_(None))
        )
        entry = session.scalars(sa.select(AuditLogEntry).where(AuditLogEntry.action == "tenant.delete")).one()
    assert orphans == 0
    assert entry.target_id == "meppel" and entry.details["documents"] == before["documents"]
    assert (_rows_of(services, staphorst), services.store.count(staphorst)) == others
    assert httpx.get(f"{api}/meppel").status_code == 404
    again = httpx.delete(f"{api}/meppel", headers=ADMIN)
    assert again.status_code == 404 and "bestaat niet" in again.json()["detail"]
    answer = httpx.post(
        f"{api}/staphorst/chat", json={"question": "Wanneer wordt de groene bak geleegd?"}, timeout=60
    )
    assert "groene bak" in answer.json()["answer"]


def test_a_running_crawl_stops_a_delete(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    tenant_id = setup_tenant(services, tmp_path)
    source = create_source(
        services.db, tenant_id, SourceCreate(name="website", start_urls=["https://www.meppel.nl/"]), "test"
    )
    job, _ = create_crawl_job(services.db, tenant_id, source.id, trigger="test")
    with services.db.session() as session:
        session.execute(
            sa.update(Job)
            .where(Job.id == job.id)
            .values(status="running", worker_id="w", heartbeat_at=utcnow())
        )
    busy = httpx.delete(f"{live_server.url}/api/v1/tenants/meppel", headers=ADMIN)
    assert busy.status_code == 409 and job.id in busy.json()["detail"]
    assert get_profile(services.db, "meppel").id == tenant_id  # nothing removed
    with services.db.session() as session:  # the worker stopped long ago: its lease is over
        session.execute(sa.update(Job).where(Job.id == job.id).values(heartbeat_at=sa.null()))
    assert httpx.delete(f"{live_server.url}/api/v1/tenants/meppel", headers=ADMIN).status_code == 204


def test_cli_shows_changes_and_deletes_a_tenant(cli_env: Path) -> None:
    runner = CliRunner()

    def va(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    assert va("tenants", "create", "dalfsen", "Gemeente Dalfsen", "--phone", "14 0529")[0] == 0
    site = write_site(
        cli_env / "site", "Dalfsen", {"paspoort.html": ("Paspoort", "<p>Een paspoort kost € 84,50.</p>")}
    )
    assert va("ingest", "dalfsen", str(site), "--base-url", "https://www.dalfsen.nl/")[0] == 0

    code, out = va(
        "tenants",
        "update",
        "dalfsen",
        "--email",
        "info@dalfsen.nl",
        "--set",
        "retention_days=30",
        "--set",
        "widget.greeting=Welkom in Dalfsen",
        "--set",
        'languages=["en"]',
    )
    assert code == 0, out
    assert "contact" in out and "settings.widget.greeting" in out and "settings.retention_days" in out
    code, out = va("tenants", "show", "dalfsen")
    assert code == 0, out
    for text in ("14 0529", "info@dalfsen.nl", "Welkom in Dalfsen", '["nl", "en"]', "1 documents"):
        assert text in out, out

    for mistyped in (("tenants", "show", "dalfesn"), ("ask", "dalfesn", "Wat kost een paspoort?")):
        code, out = va(*mistyped)
        assert code == 1 and "Did you mean 'dalfsen'?" in out, out
    code, out = va("tenants", "show", "zwolle")
    assert code == 1 and "See: va tenants list" in out
    code, out = va("tenants", "update", "dalfsen", "--set", "retention_days=0")
    assert code == 2 and "Invalid settings.retention_days" in out, out
    # the command line speaks the README's language; the API says the same in Dutch
    code, out = va("tenants", "update", "dalfsen", "--set", "answer_backend=gpt4")
    assert code == 2 and out.strip() == (
        "Invalid settings.answer_backend: 'gpt4' is not a known answer backend; choose from extractive, "
        "openai, local"
    ), out
    code, out = va("tenants", "update", "dalfsen", "--set", "kleur=rood")
    assert code == 2 and "Invalid settings.kleur" in out, out
    code, out = va("tenants", "update", "dalfsen")
    assert code == 2 and "Nothing to change" in out
    assert va("tenants", "update", "dalfsen", "--set", "retention_days=null")[0] == 0
    code, out = va("tenants", "show", "dalfsen", "--json")
    assert code == 0 and '"retention_days": null' in out and '"greeting": "Welkom in Dalfsen"' in out

    code, out = va("tenants", "delete", "dalfsen")  # no terminal to ask on
    assert code == 2 and "--yes" in out
    code, out = va("tenants", "delete", "dalfsen", "--yes")
    assert code == 0 and "Deleted tenant dalfsen" in out and "1 documents" in out, out
    code, out = va("tenants", "show", "dalfsen")
    assert code == 1 and "does not exist" in out
    code, out = va("tenants", "delete", "dalfsen", "--yes")
    assert code == 1 and "does not exist" in out


def test_names_with_bidirectional_controls_are_refused(live_server: LiveServer, services: Services) -> None:
    api = f"{live_server.url}/api/v1/tenants"
    tricks = ["Gemeente \u202eparK", "Gemeente \u2066Dalfsen\u2069", "Bron\u200f"]
    for name in tricks:
        refused = httpx.post(api, headers=ADMIN, json={"slug": "dalfsen", "name": name})
        assert refused.status_code == 422 and "schrijfrichting" in refused.json()["detail"], refused.text
    assert (
        httpx.post(api, headers=ADMIN, json={"slug": "dalfsen", "name": "Gemeente Dalfsen"}).status_code
        == 201
    )
    assert httpx.patch(f"{api}/dalfsen", headers=ADMIN, json={"name": tricks[0]}).status_code == 422
    source = httpx.post(
        f"{api}/dalfsen/sources",
        headers=ADMIN,
        json={"name": tricks[2], "start_urls": ["https://www.dalfsen.nl/"]},
    )
    assert source.status_code == 422 and "schrijfrichting" in source.json()["detail"], source.text
    assert get_profile(services.db, "dalfsen").name == "Gemeente Dalfsen"
    arabic = httpx.post(api, headers=ADMIN, json={"slug": "arabisch", "name": "بلدية دالفسن"})
    assert arabic.status_code == 201  # right-to-left script itself is a name like any other
