"""The widget's routes: its script, its configuration per tenant and the demo page."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from virtuele_assistent.api.app import create_app
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Tenant
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate
from virtuele_assistent.tenants.service import create_tenant
from virtuele_assistent.widget import BUNDLE_PATH, WidgetBundle, WidgetSettings

WIDGET_LIMIT_GZIP = 50 * 1024


@pytest.fixture
def client(services: Services) -> TestClient:
    create_tenant(
        services.db,
        TenantCreate(
            slug="dorpen",
            name="Gemeente Dorpen",
            form_of_address="je",
            contact=ContactRoutes(phone="14 0123"),
            allowed_origins=["https://www.dorpen.nl"],
        ),
    )
    return TestClient(create_app(services.settings, services))


def set_widget_settings(services: Services, slug: str, widget: dict) -> None:
    with services.db.session() as session:
        tenant = session.query(Tenant).filter_by(slug=slug).one()
        tenant.settings = {**(tenant.settings or {}), "widget": widget}


def test_config_has_dutch_defaults_in_the_tenants_form_of_address(client: TestClient) -> None:
    response = client.get("/api/v1/tenants/dorpen/widget-config")
    assert response.status_code == 200
    config = response.json()
    assert config["tenant"] == "dorpen"
    assert config["name"] == "Gemeente Dorpen"
    assert config["language"] == "nl"
    assert "Gemeente Dorpen" in config["greeting"] and "je helpen" in config["greeting"]
    assert "digitale assistent (AI)" in config["disclosure"]
    assert "je BSN" in config["privacy"]
    assert config["privacy_url"] is None
    assert len(config["suggestions"]) == 3
    assert config["theme"] == {}
    assert config["contact"]["phone"] == "14 0123"
    assert config["handover_available"] is True


def test_config_tells_a_website_that_is_not_allowed_and_whether_anything_is_indexed(
    client: TestClient, services: Services, tmp_path: Path
) -> None:
    from structlog.testing import capture_logs

    own = client.get("/api/v1/tenants/dorpen/widget-config", headers={"Origin": "https://www.dorpen.nl"})
    assert own.headers.get_list("access-control-allow-origin") == ["https://www.dorpen.nl"]
    assert own.json()["origin_allowed"] is True and own.json()["available"] is False  # nothing indexed
    assert own.headers["vary"] == "Origin"
    # Another website may read the (public) configuration, to learn that it is not allowed: its
    # page can then say so instead of failing on a CORS error. A session stays refused.
    with capture_logs() as logs:
        other = client.get("/api/v1/tenants/dorpen/widget-config", headers={"Origin": "https://evil.example"})
    assert other.headers.get_list("access-control-allow-origin") == ["https://evil.example"]
    assert other.json()["origin_allowed"] is False
    warning = next(entry for entry in logs if entry["event"] == "widget.origin_not_allowed")
    assert warning["tenant"] == "dorpen" and warning["origin"] == "https://evil.example"
    assert (
        warning["fix"]
        == "va tenants update dorpen --origin https://www.dorpen.nl --origin https://evil.example"
    )
    session = client.post("/api/v1/tenants/dorpen/sessions", headers={"Origin": "https://evil.example"})
    assert session.status_code == 403 and session.headers.get_list("access-control-allow-origin") == []

    from tests.test_ingest_and_search import write_site
    from virtuele_assistent.tenants.service import get_profile

    site = write_site(
        tmp_path / "site", "Dorpen", {"afval.html": ("Afval", "<p>De groene bak gaat elke week.</p>")}
    )
    services.indexer.ingest_path(get_profile(services.db, "dorpen").id, site, "https://www.dorpen.nl/")
    assert client.get("/api/v1/tenants/dorpen/widget-config").json()["available"] is True


def test_config_uses_the_tenants_own_texts_and_theme(client: TestClient, services: Services) -> None:
    set_widget_settings(
        services,
        "dorpen",
        {
            "greeting": "Goedendag! Wat wil je weten over Dorpen?",
            "privacy_url": "https://www.dorpen.nl/privacy",
            "suggestions": ["Wanneer is het zwembad open?", "  "],
            "theme": {"--va-color-primary": "#8a1538", "--nl-button-primary-color": "#ffffff"},
            "handover": False,
        },
    )
    config = client.get("/api/v1/tenants/dorpen/widget-config").json()
    assert config["greeting"] == "Goedendag! Wat wil je weten over Dorpen?"
    assert config["privacy_url"] == "https://www.dorpen.nl/privacy"
    assert config["suggestions"] == ["Wanneer is het zwembad open?"]
    assert config["theme"] == {"--va-color-primary": "#8a1538", "--nl-button-primary-color": "#ffffff"}
    assert config["handover_available"] is False


@pytest.mark.parametrize(
    "theme",
    [
        {"--va-color-primary": "red; } body { display: none"},
        {"--va-color-primary": "url(https://tracker.example/x.png)"},
        {"color": "red"},
        {"--va-color-primary": "</style><script>alert(1)</script>"},
    ],
)
def test_unsafe_theme_tokens_are_rejected(theme: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        WidgetSettings.model_validate({"theme": theme})


def test_broken_widget_settings_fall_back_to_defaults(client: TestClient, services: Services) -> None:
    set_widget_settings(services, "dorpen", {"theme": {"--va-color-primary": "x;y"}, "greeting": "Hoi"})
    response = client.get("/api/v1/tenants/dorpen/widget-config")
    assert response.status_code == 200
    assert response.json()["theme"] == {}
    assert "digitale assistent van Gemeente Dorpen" in response.json()["greeting"]


def test_config_of_an_unknown_tenant_is_a_dutch_problem(client: TestClient) -> None:
    response = client.get("/api/v1/tenants/nergenshuizen/widget-config")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "bestaat niet" in response.json()["detail"]


def test_widget_script_is_served_with_caching_and_fits_the_size_budget(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200, "build the widget first: make setup"
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.content == BUNDLE_PATH.read_bytes()
    assert b"virtuele-assistent" in response.content
    assert len(gzip.compress(response.content, 9)) <= WIDGET_LIMIT_GZIP
    etag = response.headers["etag"]
    again = client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_widget_script_is_sent_compressed_to_browsers_that_accept_gzip(client: TestClient) -> None:
    compressed = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["vary"] == "Accept-Encoding"
    assert compressed.num_bytes_downloaded <= WIDGET_LIMIT_GZIP
    assert compressed.content == BUNDLE_PATH.read_bytes()  # decoded by the client as a browser does
    revalidated = client.get(
        "/widget.js", headers={"Accept-Encoding": "gzip", "If-None-Match": compressed.headers["etag"]}
    )
    assert revalidated.status_code == 304
    for refused in ("identity", "gzip;q=0, identity", ""):
        plain = client.get("/widget.js", headers={"Accept-Encoding": refused})
        assert "content-encoding" not in plain.headers, refused
        assert plain.num_bytes_downloaded == len(BUNDLE_PATH.read_bytes())


def test_missing_bundle_is_reported_not_crashed(tmp_path: Path) -> None:
    from virtuele_assistent.widget import WidgetNotBuilt

    bundle = WidgetBundle(tmp_path / "widget.js")
    with pytest.raises(WidgetNotBuilt):
        bundle.load()
    (tmp_path / "widget.js").write_text("console.log(1)")
    body, etag = bundle.load()
    assert body == b"console.log(1)" and etag.startswith('"')


def test_demo_page_embeds_the_widget_and_shows_the_name_as_plain_text(
    client: TestClient, services: Services
) -> None:
    with services.db.session() as session:
        session.query(Tenant).filter_by(slug="dorpen").one().name = "Gemeente <b>Dorpen</b>"
    page = client.get("/demo/dorpen")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<script src="/widget.js" defer></script>' in html
    assert '<virtuele-assistent tenant="dorpen"></virtuele-assistent>' in html
    assert "Gemeente Dorpen" in html and "<b>Dorpen</b>" not in html  # a name is plain text
    inline = client.get("/demo/dorpen", params={"mode": "inline", "onderwerp": "afval"})
    assert '<virtuele-assistent tenant="dorpen" mode="inline">' in inline.text
    assert "<h1>Afval</h1>" in inline.text
    assert client.get("/demo/dorpen", params={"mode": "popup"}).status_code == 422
    assert client.get("/demo/dorpen", params={"onderwerp": "geheim"}).status_code == 404
    assert client.get("/demo/nergenshuizen").status_code == 404
