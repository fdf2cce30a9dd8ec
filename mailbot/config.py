"""Configuration: a TOML file validated by pydantic.

Every key has a default that runs the embedded setup (SQLite + local Maildir),
so ``mailbot demo`` and a config-less ``mailbot poll --once`` need no file.
Secrets are :class:`pydantic.SecretStr`: their ``repr`` is ``'**********'``,
so a logged config never shows them. Each secret may come from the file, from
an environment variable, or from a file named by ``*_file`` (for Docker/systemd
credentials); the environment wins.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Security = Literal["tls", "starttls", "plain"]


class _Section(BaseModel):
    # hide_input_in_errors: a typo next to a password must not print the password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class IdentityConfig(_Section):
    """Who mailbot is on the wire."""

    support_address: str = "support@ecarnet.example"
    support_name: str = "Support e-carnet"
    message_id_domain: str = "mailbot.ecarnet.example"
    other_addresses: list[str] = Field(default_factory=list)
    default_language: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"


class DatabaseConfig(_Section):
    url: str = "sqlite:///mailbot.db"


class _ServerConfig(_Section):
    """Connection settings shared by the IMAP and SMTP servers."""

    host: str = "localhost"
    user: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 30.0


class ImapConfig(_ServerConfig):
    port: int = 993
    security: Security = "tls"
    folder: str = "INBOX"
    move_to: str | None = None
    batch_size: int = 100

    @model_validator(mode="after")
    def _move_elsewhere(self) -> ImapConfig:
        if self.move_to and self.move_to == self.folder:
            raise ValueError("source.imap.move_to must differ from source.imap.folder")
        return self


class MaildirSourceConfig(_Section):
    path: Path = Path("maildir/inbox")


class SourceConfig(_Section):
    kind: Literal["imap", "maildir"] = "maildir"
    imap: ImapConfig = Field(default_factory=ImapConfig)
    maildir: MaildirSourceConfig = Field(default_factory=MaildirSourceConfig)


class SmtpConfig(_ServerConfig):
    port: int = 587
    security: Security = "starttls"


class MaildirSinkConfig(_Section):
    path: Path = Path("maildir/sent")


class SenderConfig(_Section):
    kind: Literal["smtp", "maildir"] = "maildir"
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    maildir: MaildirSinkConfig = Field(default_factory=MaildirSinkConfig)


class OutboxConfig(_Section):
    max_attempts: int = Field(default=10, ge=1)
    backoff_base_seconds: float = Field(default=60.0, ge=1)
    backoff_max_seconds: float = Field(default=3600.0, ge=1)
    claim_timeout_seconds: float = Field(default=600.0, ge=10)
    batch_size: int = Field(default=50, ge=1)


class LimitsConfig(_Section):
    """What one message may cost to read (see mailbot/limits.py)."""

    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_mime_depth: int = Field(default=32, ge=2)
    max_attachments: int = Field(default=100, ge=1)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    max_text_bytes: int = Field(default=1024 * 1024, ge=1024)


class LoopsConfig(_Section):
    deny: list[str] = Field(default_factory=list)
    max_per_hour: int = Field(default=5, ge=0)
    max_per_day: int = Field(default=20, ge=0)


class RulesConfig(_Section):
    dir: Path | None = None


class FaqConfig(_Section):
    dir: Path | None = None
    base_url: str | None = None


class PrivacyConfig(_Section):
    keys_file: Path = Path("mailbot.keys")


class ReportsConfig(_Section):
    current_app_version: str = "2.2.5"
    storage_low_percent: float = 10.0
    storage_low_mb: int = 500
    sync_stale_hours: float = 24.0
    journal_max_bytes: int = 20 * 1024 * 1024
    attachment_max_bytes: int = 50 * 1024 * 1024


Team = Literal["technique", "pédagogique"]
Priority = Literal["normale", "importante", "urgente"]


class StaffMember(_Section):
    """One member of the support team (``[[staff]]``)."""

    address: str
    name: str = ""
    team: Team = "technique"
    role: Literal["agent", "lead"] = "agent"
    lead: str | None = None  # who hears about this member's escalated tickets

    @field_validator("address", "lead")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or " " in value.strip()):
            raise ValueError(f"not a mail address: {value!r}")
        return value.strip().lower() if value is not None else None


class StaffAuthConfig(_Section):
    """How a staff mail proves it really comes from staff."""

    authserv_ids: list[str] = Field(default_factory=list)
    trusted_relays: list[str] = Field(default_factory=list)

    @field_validator("trusted_relays")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError with the culprit
        return value


class LifecycleConfig(_Section):
    """Timers of the ticket lifecycle."""

    auto_resolve_days: float = Field(default=7.0, gt=0)
    auto_close_days: float = Field(default=14.0, gt=0)
    sweep_interval_seconds: float = Field(default=600.0, ge=1)
    estimate_window_days: int = Field(default=90, ge=1)
    estimate_min_tickets: int = Field(default=5, ge=1)


class SlaTarget(_Section):
    """Targets for one priority, in hours from the ticket's opening."""

    first_response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)


def default_sla() -> dict[str, SlaTarget]:
    """The SLA targets used for a priority `[sla]` does not mention."""
    return {"normale": SlaTarget(first_response_hours=24, resolution_hours=120),
            "importante": SlaTarget(first_response_hours=8, resolution_hours=48),
            "urgente": SlaTarget(first_response_hours=2, resolution_hours=24)}


class ScheduleConfig(_Section):
    poll_interval_seconds: float = 60.0
    flush_interval_seconds: float = 30.0


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Config(_Section):
    """The whole configuration; see config.example.toml for every key."""

    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    sender: SenderConfig = Field(default_factory=SenderConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    loops: LoopsConfig = Field(default_factory=LoopsConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    faq: FaqConfig = Field(default_factory=FaqConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    staff: list[StaffMember] = Field(default_factory=list)
    staff_auth: StaffAuthConfig = Field(default_factory=StaffAuthConfig)
    teams: dict[Team, str] = Field(default_factory=dict)  # team -> its mail address
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    sla: dict[Priority, SlaTarget] = Field(default_factory=default_sla)
    templates_dir: Path | None = None

    @field_validator("sla", mode="before")
    @classmethod
    def _sla_defaults(cls, value: object) -> object:
        """A priority left out of ``[sla]`` keeps its default targets."""
        if isinstance(value, dict):
            return {**default_sla(), **value}
        return value

    @model_validator(mode="after")
    def _unique_staff(self) -> Config:
        addresses = [m.address for m in self.staff]
        if len(addresses) != len(set(addresses)):
            raise ValueError("[[staff]] lists the same address twice")
        for member in self.staff:
            if member.lead and member.lead not in addresses:
                raise ValueError(f"[[staff]] {member.address}: lead {member.lead} must be a "
                                 "[[staff]] address too (the escalation asks them to act by "
                                 "mail, which only staff can)")
        ours = {self.identity.support_address.lower(),
                *(a.lower() for a in self.identity.other_addresses)}
        for address in (*addresses, *(a.lower() for a in self.teams.values())):
            if address in ours:
                raise ValueError(f"{address} is the support address: staff and team "
                                 "addresses must be people or other mailboxes")
        return self


def load_config(path: Path | None) -> Config:
    """Read *path* (TOML) into a :class:`Config`, or the defaults when None.

    Relative paths in the file are resolved against the file's folder, so a
    config works whatever the current directory of the service.
    """
    if path is None:
        config = Config()
    else:
        with path.open("rb") as fh:
            config = Config.model_validate(tomllib.load(fh))
        _resolve_paths(config, path.parent)
    _apply_secret_sources(config)
    return config


def _resolve_paths(config: Config, base: Path) -> None:
    def rel(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    config.source.maildir.path = rel(config.source.maildir.path)  # type: ignore[assignment]
    config.sender.maildir.path = rel(config.sender.maildir.path)  # type: ignore[assignment]
    config.source.imap.password_file = rel(config.source.imap.password_file)
    config.sender.smtp.password_file = rel(config.sender.smtp.password_file)
    config.templates_dir = rel(config.templates_dir)
    config.privacy.keys_file = rel(config.privacy.keys_file)  # type: ignore[assignment]
    config.rules.dir = rel(config.rules.dir)
    config.faq.dir = rel(config.faq.dir)
    url = config.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        config.database.url = prefix + str(base / url[len(prefix):])


def _apply_secret_sources(config: Config) -> None:
    for env, server in (("MAILBOT_IMAP_PASSWORD", config.source.imap),
                        ("MAILBOT_SMTP_PASSWORD", config.sender.smtp)):
        server.password = _secret(env, server.password_file, server.password)


def _secret(env: str, file: Path | None, value: SecretStr | None) -> SecretStr | None:
    if os.environ.get(env):
        return SecretStr(os.environ[env])
    if file is not None:
        return SecretStr(file.read_text(encoding="utf-8").strip())
    return value
