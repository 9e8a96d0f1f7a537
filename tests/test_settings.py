from pathlib import Path

import pytest

from virtuele_assistent.settings import SettingsError, load_settings


def test_embedded_is_the_default(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.profile == "embedded"
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    assert settings.qdrant_path == tmp_path / "qdrant"


def test_production_needs_its_servers() -> None:
    with pytest.raises(SettingsError, match="VA_DATABASE_URL, VA_QDRANT_URL, VA_REDIS_URL"):
        load_settings(profile="production")


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_PORT", "not-a-port")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith("Invalid setting VA_PORT:")
    assert "\n" not in str(error.value)


def test_unknown_setting_in_config_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "va.toml"
    config.write_text('profile = "embedded"\nanswer_backnd = "openai"\n')
    monkeypatch.setenv("VA_CONFIG_FILE", str(config))
    with pytest.raises(SettingsError, match="ANSWER_BACKND"):
        load_settings()


def test_config_file_values_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "va.toml"
    config.write_text("port = 9123\n")
    monkeypatch.setenv("VA_CONFIG_FILE", str(config))
    assert load_settings().port == 9123


def test_the_rerank_setting_reaches_the_retriever(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from virtuele_assistent.services import Services

    monkeypatch.setenv("VA_RERANK", "true")
    services = Services(load_settings(data_dir=tmp_path))
    try:
        assert services.settings.rerank and services.retriever.rerank
    finally:
        services.close()
    assert not load_settings(data_dir=tmp_path, rerank=False).rerank
