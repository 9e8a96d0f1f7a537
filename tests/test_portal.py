"""The staff portal over real HTTP, on SQLite and PostgreSQL: sign-in with CSRF and lockout, session
cookies that end on sign-out and after the idle timeout, municipalities per role, the audit log with
its filter and export, and Dutch messages for everything refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import LiveServer
from virtuele_assistent.api.app import create_app
from virtuele_assistent.audit.service import AuditFilter, list_entries
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import StaffSession, utcnow
from virtuele_assistent.tenants.schemas import TenantCreate, TenantUpdate
from virtuele_assistent.tenants.service import create_tenant, update_tenant

PASSWORD = "een-lang-wachtwoord"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def portal(services: Services) -> Iterator[str]:
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"), actor="cli")
    create_tenant(services.db, TenantCreate(slug="hoorn", name="Gemeente Hoorn"), actor="cli")
    create_user(
        services.db, "anna@meppel.nl", PASSWORD, name="Anna de Vries", roles=[("beheerder", "meppel")]
    )
    create_user(services.db, "kees@meppel.nl", PASSWORD, name="Kees", roles=[("kcc", "meppel")])
    update_tenant(services.db, "meppel", TenantUpdate(form_of_address="je"), actor="anna@meppel.nl")
    with LiveServer(create_app(services.settings, services)) as server:
        yield server.url


@contextmanager
def signed_in(url: str, email: str = "anna@meppel.nl", password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        form = client.get("/beheer/inloggen")
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/beheer/inloggen",
            data={"email": email, "password": password, "csrf_token": token, "volgende": "/beheer"},
        )
        assert response.status_code == 303, response.text
        yield client


def csrf_of(client: httpx.Client, path: str = "/beheer") -> str:
    return CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def test_sign_in_sets_a_strict_cookie_and_returns_to_the_page_asked_for(portal: str) -> None:
    with httpx.Client(base_url=portal, timeout=30) as client:
        asked = client.get("/beheer/gemeenten/meppel/auditlog?wie=anna")
        assert asked.status_code == 303
        assert asked.headers["location"].startswith("/beheer/inloggen?volgende=")
        form = client.get(asked.headers["location"])
        assert 'value="/beheer/gemeenten/meppel/auditlog?wie=anna"' in form.text
        assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/beheer/inloggen",
            data={
                "email": "Anna@Meppel.nl ",
                "password": PASSWORD,
                "csrf_token": token,
                "volgende": "/beheer/gemeenten/meppel/auditlog?wie=anna",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/beheer/gemeenten/meppel/auditlog?wie=anna"
        cookie = response.headers["set-cookie"]
        assert "va_beheer=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Path=/beheer" in cookie
        page = client.get(response.headers["location"])
        assert page.status_code == 200 and "Anna de Vries" in page.text
        assert page.headers["cache-control"] == "no-store"


def test_sign_in_refuses_in_dutch_and_keeps_what_was_typed(portal: str) -> None:
    with httpx.Client(base_url=portal, timeout=30) as client:
        token = CSRF.search(client.get("/beheer/inloggen").text).group(1)  # type: ignore[union-attr]
        wrong = client.post(
            "/beheer/inloggen", data={"email": "anna@meppel.nl", "password": "fout", "csrf_token": token}
        )
        assert wrong.status_code == 401 and "Het e-mailadres of wachtwoord klopt niet." in wrong.text
        assert 'value="anna@meppel.nl"' in wrong.text and "va_beheer=" not in wrong.headers.get(
            "set-cookie", ""
        )
        empty = client.post("/beheer/inloggen", data={"email": "", "password": "", "csrf_token": token})
        assert empty.status_code == 400 and "Vul uw e-mailadres en wachtwoord in." in empty.text
        forged = client.post(
            "/beheer/inloggen", data={"email": "anna@meppel.nl", "password": PASSWORD, "csrf_token": "x" * 43}
        )
        assert forged.status_code == 403 and "Dit formulier is verlopen" in forged.text
        elsewhere = client.post(
            "/beheer/inloggen",
            data={
                "email": "anna@meppel.nl",
                "password": PASSWORD,
                "csrf_token": token,
                "volgende": "//evil.example",
            },
        )
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/beheer"


def test_repeated_failures_lock_the_address_out_with_a_dutch_message(portal: str) -> None:
    with httpx.Client(base_url=portal, timeout=30) as client:
        token = CSRF.search(client.get("/beheer/inloggen").text).group(1)  # type: ignore[union-attr]
        statuses = [
            client.post(
                "/beheer/inloggen", data={"email": "kees@meppel.nl", "password": "fout", "csrf_token": token}
            ).status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [401] * 5 and statuses[5] == 429
        locked = client.post(
            "/beheer/inloggen", data={"email": "kees@meppel.nl", "password": PASSWORD, "csrf_token": token}
        )
        assert locked.status_code == 429 and "Te veel mislukte pogingen" in locked.text


def test_each_role_sees_its_own_municipalities_and_pages(portal: str) -> None:
    with signed_in(portal, "kees@meppel.nl") as kees:
        home = kees.get("/beheer")
        assert "Gemeente Meppel" in home.text and "Gemeente Hoorn" not in home.text
        assert "KCC-medewerker" in home.text
        assert kees.get("/beheer/gemeenten/meppel").status_code == 200
        refused = kees.get("/beheer/gemeenten/meppel/auditlog")
        assert (
            refused.status_code == 403 and "U heeft geen rol die dit bij deze gemeente mag." in refused.text
        )
        assert kees.get("/beheer/gemeenten/hoorn").status_code == 403
        assert kees.get("/beheer/auditlog").status_code == 403
        assert kees.get("/beheer/gemeenten/bestaat-niet").status_code == 404


def test_the_audit_log_shows_who_changed_what_with_before_and_after(portal: str) -> None:
    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/auditlog", params={"wie": "anna", "soort": "tenant.update"})
        assert page.status_code == 200
        assert "Gemeente gewijzigd" in page.text and "anna@meppel.nl" in page.text
        assert "form_of_address: &#34;u&#34; → &#34;je&#34;" in page.text
        assert "Gemeente Hoorn" not in page.text
        bad = anna.get("/beheer/gemeenten/meppel/auditlog", params={"van": "gisteren", "soort": "iets"})
        assert bad.status_code == 400
        assert (
            "Vul een datum in als jjjj-mm-dd" in bad.text
            and "Kies een soort wijziging uit de lijst." in bad.text
        )
        assert 'aria-invalid="true"' in bad.text
        exported = anna.get("/beheer/gemeenten/meppel/auditlog.csv", params={"wie": "anna"})
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        assert exported.text.count("\n") == 2  # header and the one change
        as_json = anna.get("/beheer/gemeenten/meppel/auditlog.json").json()
        assert {entry["tenant"] for entry in as_json} == {"meppel"}


def test_sign_out_and_idle_timeout_end_the_session(portal: str, services: Services) -> None:
    with signed_in(portal) as anna:
        cookie = anna.cookies.get("va_beheer")
        assert anna.post("/beheer/uitloggen", data={"csrf_token": "verkeerd"}).status_code == 403
        out = anna.post("/beheer/uitloggen", data={"csrf_token": csrf_of(anna)})
        assert out.status_code == 303 and "reden=uitgelogd" in out.headers["location"]
        assert "U bent uitgelogd." in anna.get(out.headers["location"]).text
    with httpx.Client(base_url=portal, timeout=30, cookies={"va_beheer": cookie or ""}) as stolen:
        assert stolen.get("/beheer").status_code == 303  # the row is gone: the old cookie signs no one in

    with signed_in(portal) as anna:
        with services.db.engine.begin() as connection:
            connection.execute(sa.update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
        expired = anna.get("/beheer/gemeenten/meppel")
        assert expired.status_code == 303 and "reden=verlopen" in expired.headers["location"]
        assert "Uw sessie is verlopen. Log opnieuw in." in anna.get(expired.headers["location"]).text
        with services.db.session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0


def test_an_admin_gives_and_takes_roles_and_the_log_says_who(portal: str, services: Services) -> None:
    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/medewerkers")
        assert page.status_code == 200 and "kees@meppel.nl" in page.text and "KCC-medewerker" in page.text
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        short = anna.post(
            "/beheer/gemeenten/meppel/medewerkers",
            data={
                "csrf_token": token,
                "email": "lotte@meppel.nl",
                "name": "Lotte",
                "role": "redacteur",
                "password": "kort",
            },
        )
        assert short.status_code == 400 and "minstens 12 tekens" in short.text
        assert 'value="lotte@meppel.nl"' in short.text  # what was typed stays (not the password)
        added = anna.post(
            "/beheer/gemeenten/meppel/medewerkers",
            data={
                "csrf_token": token,
                "email": "lotte@meppel.nl",
                "name": "Lotte",
                "role": "redacteur",
                "password": PASSWORD,
            },
        )
        assert added.status_code == 303 and "gedaan=toegevoegd" in added.headers["location"]
        assert "De rol is gegeven." in anna.get(added.headers["location"]).text
        again = anna.post(
            "/beheer/gemeenten/meppel/medewerkers",
            data={"csrf_token": token, "email": "kees@meppel.nl", "role": "analist"},
        )
        assert again.status_code == 303  # an existing account: the role is added, no password needed
        with signed_in(portal, "lotte@meppel.nl") as lotte:
            assert "Gemeente Meppel" in lotte.get("/beheer").text

        with services.db.session() as session:
            lotte_id = session.scalar(sa.text("SELECT id FROM users WHERE email = 'lotte@meppel.nl'"))
            anna_id = session.scalar(sa.text("SELECT id FROM users WHERE email = 'anna@meppel.nl'"))
        revoke = f"/beheer/gemeenten/meppel/medewerkers/{lotte_id}/rollen/redacteur/intrekken"
        assert anna.post(revoke, data={"csrf_token": "vals"}).status_code == 403
        done = anna.post(revoke, data={"csrf_token": token})
        assert done.status_code == 303
        assert "lotte@meppel.nl" not in anna.get("/beheer/gemeenten/meppel/medewerkers").text
        own = anna.post(
            f"/beheer/gemeenten/meppel/medewerkers/{anna_id}/rollen/beheerder/intrekken",
            data={"csrf_token": token},
        )
        assert own.status_code == 400 and "eigen rol als beheerder" in own.text

        log = anna.get("/beheer/gemeenten/meppel/auditlog", params={"soort": "user."}).text
        assert "Medewerker toegevoegd" in log and "Rollen van een medewerker gewijzigd" in log
    with signed_in(portal, "kees@meppel.nl") as kees:
        assert kees.get("/beheer/gemeenten/meppel/medewerkers").status_code == 403


def test_the_api_manages_staff_the_same_way(portal: str, services: Services) -> None:
    with services.db.session() as session:
        anna_id = session.scalar(sa.text("SELECT id FROM users WHERE email = 'anna@meppel.nl'"))
    headers = {"Authorization": f"Bearer {services.tokens.issue_staff(anna_id)}"}
    with httpx.Client(base_url=portal, headers=headers, timeout=30) as api:
        created = api.post(
            "/api/v1/tenants/meppel/staff",
            json={"email": "jan@meppel.nl", "name": "Jan", "role": "privacy", "password": PASSWORD},
        )
        assert created.status_code == 201 and created.json()["roles"] == ["privacy"]
        listed = {m["email"]: m["roles"] for m in api.get("/api/v1/tenants/meppel/staff").json()}
        assert listed["jan@meppel.nl"] == ["privacy"] and listed["anna@meppel.nl"] == ["beheerder"]
        assert api.get("/api/v1/tenants/hoorn/staff").status_code == 403
        gone = api.delete(f"/api/v1/tenants/meppel/staff/{created.json()['id']}/roles/privacy")
        assert gone.status_code == 204
        twice = api.delete(f"/api/v1/tenants/meppel/staff/{created.json()['id']}/roles/privacy")
        assert twice.status_code == 404 and "niet (meer)" in twice.json()["detail"]
        platform = api.post("/api/v1/tenants/meppel/staff", json={"email": "x@meppel.nl", "role": "platform"})
        assert platform.status_code == 422


def _settings_form(page: str) -> dict[str, object]:
    """The form's fields as the browser would send them back unchanged."""
    from html import unescape

    values: dict[str, object] = {}
    for name, value in re.findall(r'<input [^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page):
        if name not in ("aanspreekvorm", "talen", "gesprekken", "antwoorden"):
            values[name] = unescape(value)
    for name, value in re.findall(r'<textarea [^>]*name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page):
        values[name] = unescape(value)
    values["aanspreekvorm"] = re.search(r'name="aanspreekvorm" value="(u|je)" checked', page).group(1)  # type: ignore[union-attr]
    values["talen"] = re.findall(r'name="talen" value="([a-z]+)" checked', page)
    values["gesprekken"] = re.search(r'name="gesprekken" value="([a-z]+)" checked', page).group(1)  # type: ignore[union-attr]
    values["antwoorden"] = re.search(r'name="antwoorden" value="([a-z]*)" checked', page).group(1)  # type: ignore[union-attr]
    return values


def test_settings_are_saved_with_only_what_changed_in_the_log(portal: str, services: Services) -> None:
    from virtuele_assistent.tenants.service import tenant_details

    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/instellingen").text
        form = _settings_form(page)
        assert form["aanspreekvorm"] == "je" and form["naam"] == "Gemeente Meppel"
        unchanged = anna.post("/beheer/gemeenten/meppel/instellingen", data=form)
        assert unchanged.status_code == 303 and "ongewijzigd" in unchanged.headers["location"]

        changed = {
            **form,
            "aanspreekvorm": "u",
            "begroeting": "Goedendag! Waar kan ik u mee helpen?",
            "suggesties": "Wat kost een paspoort?\n\nWanneer is het gemeentehuis open?",
            "herkomsten": "https://www.meppel.nl",
            "talen": ["nl", "en"],
        }
        saved = anna.post("/beheer/gemeenten/meppel/instellingen", data=changed)
        assert saved.status_code == 303 and "opgeslagen" in saved.headers["location"]
        assert "De instellingen zijn opgeslagen." in anna.get(saved.headers["location"]).text
    tenant = tenant_details(services.db, "meppel")
    assert tenant.form_of_address == "u" and tenant.allowed_origins == ["https://www.meppel.nl"]
    assert tenant.settings.widget.greeting == "Goedendag! Waar kan ik u mee helpen?"
    assert tenant.settings.widget.suggestions == [
        "Wat kost een paspoort?",
        "Wanneer is het gemeentehuis open?",
    ]
    assert tenant.settings.languages == ["nl", "en"]
    entries = list_entries(
        services.db, AuditFilter(tenants=("meppel",), actor="anna", action="tenant.update")
    )
    after = entries[0].details["after"]
    assert set(after) == {"form_of_address", "allowed_origins", "settings"}
    assert set(after["settings"]) == {"widget", "languages"} and set(after["settings"]["widget"]) == {
        "greeting",
        "suggestions",
    }
    assert entries[0].details["before"]["form_of_address"] == "je"


def test_who_writes_the_answers_and_the_places_are_set_in_the_portal(portal: str, services: Services) -> None:
    from virtuele_assistent.tenants.service import tenant_details

    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/instellingen").text
        assert "Zoals de installatie het doet" in page
        form = _settings_form(page)
        assert form["antwoorden"] == "" and form["model"] == "" and form["plaatsen"] == ""
        changed = {
            **form,
            "antwoorden": "openai",
            "model": "mistral-small",
            "plaatsen": "Nijeveen\nKolderveen",
        }
        saved = anna.post("/beheer/gemeenten/meppel/instellingen", data=changed)
        assert saved.status_code == 303 and "opgeslagen" in saved.headers["location"]
        wrong = anna.post(
            "/beheer/gemeenten/meppel/instellingen", data={**changed, "antwoorden": "gpt", "model": "a b"}
        )
        assert (
            wrong.status_code == 400
            and 'id="antwoorden-fout"' in wrong.text
            and 'id="model-fout"' in wrong.text
        )
        back = anna.post("/beheer/gemeenten/meppel/instellingen", data={**changed, "antwoorden": ""})
        assert back.status_code == 303
    settings = tenant_details(services.db, "meppel").settings
    assert settings.answer_backend is None and settings.llm_model == "mistral-small"
    assert settings.place_names == ["Nijeveen", "Kolderveen"]


def test_bad_settings_get_the_apis_dutch_message_at_their_field_and_nothing_is_saved(
    portal: str, services: Services
) -> None:
    from virtuele_assistent.tenants.service import tenant_details

    before = tenant_details(services.db, "meppel")
    with signed_in(portal) as anna:
        form = _settings_form(anna.get("/beheer/gemeenten/meppel/instellingen").text)
        bad = {
            **form,
            "privacy_url": "geen-adres",
            "bewaartermijn": "een jaar",
            "naam": "",
            "aanspreekvorm": "u",
        }
        refused = anna.post("/beheer/gemeenten/meppel/instellingen", data=bad)
        assert refused.status_code == 400
        text = refused.text
        assert "Niet opgeslagen: 3 velden klopt nog niet" in text
        for field in ("privacy_url", "bewaartermijn", "naam"):
            assert f'id="{field}-fout"' in text and f'href="#{field}"' in text
        assert 'value="een jaar"' in text  # what was typed stays on the form
    assert tenant_details(services.db, "meppel") == before

    with services.db.session() as session:
        anna_id = session.scalar(sa.text("SELECT id FROM users WHERE email = 'anna@meppel.nl'"))
    api = httpx.patch(
        f"{portal}/api/v1/tenants/meppel",
        json={"settings": {"widget": {"privacy_url": "geen-adres"}}},
        headers={"Authorization": f"Bearer {services.tokens.issue_staff(anna_id)}"},
    )
    api_message = api.json()["errors"][0]["message"]
    assert api.status_code == 422 and api_message in text  # the same words in the portal and the API

    with signed_in(portal, "kees@meppel.nl") as kees:
        assert kees.get("/beheer/gemeenten/meppel/instellingen").status_code == 403


def test_a_platform_admin_adds_a_municipality_and_goes_on_to_its_settings(
    portal: str, services: Services
) -> None:
    create_user(services.db, "beheer@platform.nl", PASSWORD, name="Platform", roles=[("platform", None)])
    with signed_in(portal, "beheer@platform.nl") as admin:
        home = admin.get("/beheer").text
        assert "Gemeente toevoegen" in home and "Gemeente Hoorn" in home
        token = CSRF.search(home).group(1)  # type: ignore[union-attr]
        bad = admin.post(
            "/beheer/gemeenten", data={"csrf_token": token, "kenmerk": "Edam Volendam", "naam": "E"}
        )
        assert bad.status_code == 400
        assert 'id="nieuw-kenmerk-fout"' in bad.text and 'id="nieuw-naam-fout"' in bad.text
        assert 'value="Edam Volendam"' in bad.text
        taken = admin.post(
            "/beheer/gemeenten", data={"csrf_token": token, "kenmerk": "hoorn", "naam": "Hoorn"}
        )
        assert (
            taken.status_code == 400
            and "Er is al een gemeente met het kenmerk &#39;hoorn&#39;." in taken.text
        )
        made = admin.post(
            "/beheer/gemeenten",
            data={"csrf_token": token, "kenmerk": "edam-volendam", "naam": "Gemeente Edam-Volendam"},
        )
        assert (
            made.status_code == 303
            and made.headers["location"] == "/beheer/gemeenten/edam-volendam/instellingen"
        )
        assert "Instellingen Gemeente Edam-Volendam" in admin.get(made.headers["location"]).text
    with signed_in(portal) as anna:
        home = anna.get("/beheer").text
        assert "Gemeente toevoegen" not in home
        token = CSRF.search(home).group(1)  # type: ignore[union-attr]
        assert anna.post("/beheer/gemeenten", data={"csrf_token": token, "kenmerk": "x"}).status_code == 403


def test_an_editor_adds_a_source_starts_a_crawl_and_cancels_it(portal: str) -> None:
    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/bronnen")
        assert page.status_code == 200 and "Er zijn nog geen bronnen" in page.text
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        bad = anna.post(
            "/beheer/gemeenten/meppel/bronnen",
            data={"csrf_token": token, "naam": "website", "startadressen": "", "schema": "elke dag"},
        )
        assert bad.status_code == 400 and 'id="bron-schema-fout"' in bad.text
        assert 'value="elke dag"' in bad.text
        nothing = anna.post(
            "/beheer/gemeenten/meppel/bronnen",
            data={"csrf_token": token, "naam": "website", "startadressen": ""},
        )
        assert nothing.status_code == 400 and 'id="bron-startadressen-fout"' in nothing.text
        inside = anna.post(
            "/beheer/gemeenten/meppel/bronnen",
            data={
                "csrf_token": token,
                "naam": "intranet",
                "startadressen": "http://10.1.2.3/\nhttp://localhost/",
            },
        )
        assert inside.status_code == 400 and "Het adres 10.1.2.3 is niet openbaar" in inside.text
        made = anna.post(
            "/beheer/gemeenten/meppel/bronnen",
            data={
                "csrf_token": token,
                "naam": "website",
                "startadressen": "https://www.meppel.nl/\n",
                "schema": "1d",
            },
        )
        assert made.status_code == 303
        source = anna.get(made.headers["location"])
        assert "https://www.meppel.nl/" in source.text and "Nu crawlen" in source.text
        again = anna.post(
            "/beheer/gemeenten/meppel/bronnen",
            data={"csrf_token": token, "naam": "website", "startadressen": "https://www.meppel.nl/"},
        )
        assert again.status_code == 400 and "Er is al een bron met de naam" in again.text

        source_url = made.headers["location"]
        bad_edit = anna.post(
            source_url + "/bewerken",
            data={
                "csrf_token": token,
                "naam": "website",
                "startadressen": "https://www.meppel.nl/",
                "schema": "soms",
            },
        )
        assert (
            bad_edit.status_code == 400
            and 'id="bron-schema-fout"' in bad_edit.text
            and "Niet gewijzigd" in bad_edit.text
        )
        edited = anna.post(
            source_url + "/bewerken",
            data={
                "csrf_token": token,
                "naam": "website",
                "startadressen": "https://www.meppel.nl/",
                "schema": "6h",
            },
        )
        assert (
            edited.status_code == 303 and "De bron is gewijzigd." in anna.get(edited.headers["location"]).text
        )
        rotated = anna.post(source_url + "/webhooktoken", data={"csrf_token": token})
        assert rotated.status_code == 200 and "Nieuw webhooktoken: bewaar het nu" in rotated.text
        assert "no-store" in rotated.headers["cache-control"]

        crawl = anna.post(made.headers["location"] + "/crawlen", data={"csrf_token": token})
        assert crawl.status_code == 303 and "/beheer/gemeenten/meppel/taken/" in crawl.headers["location"]
        job = anna.get(crawl.headers["location"])
        assert "In de wachtrij" in job.text and 'hx-trigger="every 2s"' in job.text
        progress = anna.get(crawl.headers["location"] + "/voortgang")
        assert progress.text.lstrip().startswith('<section id="voortgang"') and "<html" not in progress.text
        cancelled = anna.post(crawl.headers["location"] + "/annuleren", data={"csrf_token": token})
        assert cancelled.status_code == 303
        after = anna.get(crawl.headers["location"])
        assert "Geannuleerd" in after.text and "hx-trigger" not in after.text  # the polling stops
        gone = anna.post(source_url + "/verwijderen", data={"csrf_token": token})
        assert gone.status_code == 303 and "De bron is verwijderd." in anna.get(gone.headers["location"]).text
        assert anna.get(source_url).status_code == 404
    with signed_in(portal, "kees@meppel.nl") as kees:
        assert kees.get("/beheer/gemeenten/meppel/bronnen").status_code == 403


def test_a_staff_member_changes_their_password_and_other_sessions_end(portal: str) -> None:
    with signed_in(portal, "kees@meppel.nl") as elsewhere, signed_in(portal, "kees@meppel.nl") as kees:
        token = csrf_of(kees, "/beheer/wachtwoord")
        new = "een-nieuw-lang-wachtwoord"
        wrong = kees.post(
            "/beheer/wachtwoord", data={"csrf_token": token, "huidig": "fout", "nieuw": new, "herhaling": new}
        )
        assert wrong.status_code == 400 and "Het huidige wachtwoord klopt niet." in wrong.text
        typo = kees.post(
            "/beheer/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": new, "herhaling": new + "x"},
        )
        assert typo.status_code == 400 and "De herhaling is niet hetzelfde" in typo.text
        done = kees.post(
            "/beheer/wachtwoord",
            data={"csrf_token": token, "huidig": PASSWORD, "nieuw": new, "herhaling": new},
        )
        assert done.status_code == 303
        assert "Uw wachtwoord is gewijzigd." in kees.get(done.headers["location"]).text
        assert elsewhere.get("/beheer").status_code == 303  # signed out on the other device
        assert kees.get("/beheer").status_code == 200  # not here
    with signed_in(portal, "kees@meppel.nl", "een-nieuw-lang-wachtwoord"):
        pass


def test_the_system_page_shows_components_and_masks_every_secret(portal: str, services: Services) -> None:
    create_user(services.db, "beheer@platform.nl", PASSWORD, name="Platform", roles=[("platform", None)])
    admin_token = services.settings.admin_token or ""
    with signed_in(portal, "beheer@platform.nl") as admin:
        page = admin.get("/beheer/systeem")
        assert page.status_code == 200
        assert "werkt" in page.text and "0012_fixed_answers (de nieuwste)" in page.text
        assert admin_token not in page.text and "[verborgen]" in page.text
    report = httpx.get(f"{portal}/api/v1/system", headers={"Authorization": f"Bearer {admin_token}"}).json()
    assert report["migration"]["current"] == report["migration"]["newest"]
    assert {c["name"]: c["state"] for c in report["components"]}["database"] == "ok"
    assert report["settings"]["admin_token"] == "[verborgen]" and admin_token not in str(report)
    with signed_in(portal) as anna:  # a municipality's administrator: not the platform's state
        assert anna.get("/beheer/systeem").status_code == 403


def test_uploads_are_checked_before_anything_is_kept(portal: str, services: Services) -> None:
    from tests.crawl_site import tiny_pdf
    from virtuele_assistent.portal.sources_views import _upload_problem

    with signed_in(portal) as anna:
        token = csrf_of(anna, "/beheer/gemeenten/meppel/bronnen")
        address = "https://www.meppel.nl/documenten/afvalkalender.pdf"

        def upload(name: str, data: bytes, adres: str = address) -> httpx.Response:
            return anna.post(
                "/beheer/gemeenten/meppel/bronnen/bestand",
                data={"csrf_token": token, "adres": adres},
                files={"bestand": (name, data, "application/octet-stream")},
            )

        wrong_kind = upload("virus.exe", b"MZ\x90\x00")
        assert wrong_kind.status_code == 400 and "Dit soort bestand kan niet" in wrong_kind.text
        fake = upload("afvalkalender.pdf", b"<html>geen pdf</html>")
        assert fake.status_code == 400 and "geen echt PDF-bestand" in fake.text
        nowhere = upload("afvalkalender.pdf", tiny_pdf("Afvalkalender"), adres="afvalkalender")
        assert nowhere.status_code == 400 and 'id="bron-adres-fout"' in nowhere.text
        assert not (services.settings.data_dir / "uploads").exists()  # nothing kept

        done = upload("afvalkalender.pdf", tiny_pdf("Afvalkalender 2027"))
        assert done.status_code == 303 and "/beheer/gemeenten/meppel/taken/" in done.headers["location"]
        kept = list((services.settings.data_dir / "uploads").rglob("*.pdf"))
        assert [path.name for path in kept] == ["afvalkalender.pdf"]
        assert anna.get(done.headers["location"]).status_code == 200
    assert (
        "te groot" in _upload_problem("a.pdf", b"%PDF-" + b"x" * 2048, "https://x.nl/a.pdf", 1024)["bestand"]
    )


def test_the_documents_api_and_pages_answer_for_an_empty_municipality(
    portal: str, services: Services
) -> None:
    with services.db.session() as session:
        anna_id = session.scalar(sa.text("SELECT id FROM users WHERE email = 'anna@meppel.nl'"))
    headers = {"Authorization": f"Bearer {services.tokens.issue_staff(anna_id)}"}
    listed = httpx.get(f"{portal}/api/v1/tenants/meppel/documents", params={"q": "100%_"}, headers=headers)
    assert listed.status_code == 200 and listed.json() == {"total": 0, "items": []}
    missing = httpx.get(f"{portal}/api/v1/tenants/meppel/documents/12345", headers=headers)
    assert missing.status_code == 404 and "bestaat niet" in missing.json()["detail"]
    with signed_in(portal) as anna:
        page = anna.get("/beheer/gemeenten/meppel/documenten", params={"zoek": "paspoort"})
        assert page.status_code == 200 and "Geen pagina" in page.text
        assert anna.get("/beheer/gemeenten/meppel/documenten/12345").status_code == 404
    with signed_in(portal, "kees@meppel.nl") as kees:
        assert kees.get("/beheer/gemeenten/meppel/documenten").status_code == 403
