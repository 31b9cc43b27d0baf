from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.settings import load_settings


def test_precedence_defaults_toml_env_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for name in ("NUTGRAF_LANDING", "NUTGRAF_WAREHOUSE", "NUTGRAF_REPORTS", "NUTGRAF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().warehouse == Path("nutgraf.duckdb")

    (tmp_path / "nutgraf.toml").write_text('warehouse = "from-toml.duckdb"\nreports = "r-toml"\n')
    settings = load_settings()
    assert (settings.warehouse, settings.reports) == (Path("from-toml.duckdb"), Path("r-toml"))

    monkeypatch.setenv("NUTGRAF_WAREHOUSE", "from-env.duckdb")
    monkeypatch.setenv("NUTGRAF_LANDING", "landing-env")
    settings = load_settings()
    assert settings.warehouse == Path("from-env.duckdb")
    assert settings.reports == Path("r-toml")
    assert settings.landing == Path("landing-env")

    settings = load_settings(warehouse=Path("flag.duckdb"), landing=None)
    assert settings.warehouse == Path("flag.duckdb")
    assert settings.landing == Path("landing-env")  # an absent flag does not override


def test_config_file_named_by_env_and_bad_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "elsewhere.toml"
    other.write_text("max_file_bytes = 10\n")
    monkeypatch.setenv("NUTGRAF_CONFIG", str(other))
    assert load_settings().max_file_bytes == 10
    other.write_text("max_file_bytes = -1\n")
    with pytest.raises(ValidationError):
        load_settings()
    other.write_text("landng = 'typo'\n")
    with pytest.raises(ValidationError, match="landng"):
        load_settings()


def test_an_article_without_a_source_falls_back_to_the_setting_else_the_landing_folder(
    tmp_path: Path,
):
    feed = tmp_path / "wire-feed"
    assert load_settings(landing=feed).fallback_source == ("wire-feed", "landing")
    assert load_settings(landing=feed, default_source="Reuters").fallback_source == (
        "Reuters",
        "setting",
    )
    with pytest.raises(ValidationError, match="default_source"):
        load_settings(default_source="")
