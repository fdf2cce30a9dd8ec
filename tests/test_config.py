import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import Config, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_config_is_valid_and_shows_the_defaults():
    loaded = load_config(EXAMPLE)
    defaults = Config()
    assert loaded.identity == defaults.identity
    assert loaded.outbox == defaults.outbox
    assert loaded.schedule == defaults.schedule
    assert loaded.source.imap == defaults.source.imap
    assert loaded.sender.smtp == defaults.sender.smtp
    assert loaded.source.maildir.path == EXAMPLE.parent / "maildir/inbox"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = typing.get_args(annotation)[-1] if typing.get_args(annotation) else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _keys(annotation, f"{prefix}{name}.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            # [[staff]] blocks, [sla.<priority>] tables: their keys are documented once.
            keys += _keys(inner, f"{prefix}{name}.")
        elif typing.get_origin(annotation) is dict:
            keys.append(f"{prefix}{name}.")  # a free table such as [teams]
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_setting_is_documented_in_the_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = []
    for key in _keys(Config):
        section, _, leaf = key.rpartition(".")
        table = any(f"{opening}{section}{closing}" in text
                    for opening, closing in (("[", "]"), ("[[", "]]"), ("[", ".")))
        if (section and not table) or (leaf and f"{leaf} =" not in text):
            missing.append(key)
    assert missing == []


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    path = tmp_path / "conf" / "m.toml"
    path.parent.mkdir()
    path.write_text('[database]\nurl = "sqlite:///data/m.db"\n[source.maildir]\npath = "in"\n')
    config = load_config(path)
    assert config.database.url == f"sqlite:///{tmp_path / 'conf' / 'data' / 'm.db'}"
    assert config.source.maildir.path == tmp_path / "conf" / "in"


def test_secrets_come_from_env_or_file_and_never_show(tmp_path, monkeypatch):
    secret_file = tmp_path / "smtp.txt"
    secret_file.write_text("from-file-pw\n")
    path = tmp_path / "m.toml"
    path.write_text('[source.imap]\npassword = "inline-pw"\n'
                    f'[sender.smtp]\npassword_file = "{secret_file.name}"\n')
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "from-env-pw")
    config = load_config(path)
    assert config.source.imap.password.get_secret_value() == "from-env-pw"
    assert config.sender.smtp.password.get_secret_value() == "from-file-pw"
    shown = repr(config) + str(config) + config.model_dump_json()
    assert "pw" not in shown.replace("password", "")


def test_unknown_key_is_refused(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[source.imap]\nhots = "typo.example"\n')
    with pytest.raises(ValidationError, match="hots"):
        load_config(path)
    result = CliRunner().invoke(app, ["tickets", "list", "--config", str(path)])
    assert result.exit_code == 2 and "hots" in result.output


def test_a_typo_next_to_a_password_does_not_print_the_password(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[sender.smtp]\npasword = "hunter2-SECRET"\n'
                    '[source.imap]\npassword = 12345678\n')
    result = CliRunner().invoke(app, ["tickets", "list", "--config", str(path)])
    assert result.exit_code == 2 and "pasword" in result.output
    assert "hunter2" not in result.output and "12345678" not in result.output


def test_log_level_is_checked_and_case_insensitive(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[logging]\nlevel = "debug"\n')
    assert load_config(path).logging.level == "DEBUG"
    path.write_text('[logging]\nlevel = "verbose"\n')
    result = CliRunner().invoke(app, ["tickets", "list", "--config", str(path)])
    assert result.exit_code == 2 and "level" in result.output


def test_moving_processed_mail_into_the_polled_folder_is_refused(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[source.imap]\nfolder = "INBOX"\nmove_to = "INBOX"\n')
    with pytest.raises(ValidationError, match="move_to must differ"):
        load_config(path)
