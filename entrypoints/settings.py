"""Settings from the environment (and a ``.env`` file); secrets are never printed."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """closeloop's configuration. Every field can be set as ``CLOSELOOP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file closeloop.db here"
    )
    data_dir: str = Field(
        "closeloop-data", description="Where PDFs, the local mail folders and state live"
    )
    smtp_url: SecretStr | None = Field(
        None, description="smtp://, smtp+starttls:// or smtps:// URL; unset: local Maildir"
    )
    imap_url: SecretStr | None = Field(
        None, description="imap(s):// URL of the billing inbox; unset: local Maildir"
    )
    slack_bot_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-…)")
    slack_channel: str | None = Field(
        None, description="Slack channel id for escalations and hand-offs"
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Verifies Slack interactivity requests"
    )
    slack_api_url: str = Field("https://slack.com/api", description="Slack Web API base URL")
    openai_api_key: SecretStr | None = Field(None, description="Enables the OpenAI classifier")
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server (Ollama, vLLM …)"
    )
    openai_model: str = Field("gpt-4o-mini", description="Model for the OpenAI classifier")
    trusted_authserv_id: str | None = Field(
        None, description="authserv-id of our own MTA (RFC 8601)"
    )
