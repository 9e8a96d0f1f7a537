"""`va demo` sets up the demo municipality as a resident meets it: its website crawled and its widget
linking to the site's own privacy statement."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import DEMO_SITE, free_port
from virtuele_assistent.auth.users import authenticate
from virtuele_assistent.cli import _demo_privacy_statement, app
from virtuele_assistent.services import Services
from virtuele_assistent.settings import get_settings
from virtuele_assistent.tenants.schemas import TenantUpdate
from virtuele_assistent.tenants.service import get_profile, update_tenant
from virtuele_assistent.tenants.settings import TenantSettings, WidgetSettings


def test_the_demo_widget_links_to_the_demo_sites_privacy_statement(cli_env: Path) -> None:
    port = free_port()
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--port", str(port), "--site", str(DEMO_SITE)])
    assert result.exit_code == 0, result.output
    assert (DEMO_SITE / "privacy.html").is_file()
    services = Services(get_settings())
    try:
        profile = get_profile(services.db, "voorbeeldstad")
        assert profile.settings.widget.privacy_url == f"http://127.0.0.1:{port}/demo-site/privacy.html"
        assert services.store.count(profile.id) > 0  # the site was crawled and indexed
        # the portal's address and a demo admin who can sign in with the password printed
        found = re.search(r"/beheer +\(sign in as (\S+) with password (\S+)\)", result.output)
        assert found, result.output
        assert authenticate(services.db, found.group(1), found.group(2)) is not None

        # Run on another port, the link follows it; a statement the municipality set itself is kept.
        other = "http://127.0.0.1:9999/demo-site/privacy.html"
        _demo_privacy_statement(services, profile, other)
        profile = get_profile(services.db, "voorbeeldstad")
        assert profile.settings.widget.privacy_url == other
        own = TenantSettings(widget=WidgetSettings(privacy_url="https://www.voorbeeldstad.nl/privacy"))
        update_tenant(services.db, "voorbeeldstad", TenantUpdate(settings=own), "test")
        profile = get_profile(services.db, "voorbeeldstad")
        _demo_privacy_statement(services, profile, other)
        kept = get_profile(services.db, "voorbeeldstad").settings.widget.privacy_url
        assert kept == "https://www.voorbeeldstad.nl/privacy"
    finally:
        services.close()
