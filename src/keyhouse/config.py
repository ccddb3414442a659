"""Typed settings, read once from `KEYHOUSE_*` environment variables."""

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "keyhouse"}
MIN_SECRET_LENGTH = 32


class ConfigurationError(Exception):
    """The settings cannot run a safe service."""


class Settings(BaseSettings):
    """Everything that differs between deployments."""

    model_config = SettingsConfigDict(env_prefix="KEYHOUSE_", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    redis_url: str | None = None
    max_body_bytes: int = 1_048_576
    max_import_bytes: int = 64 * 1_048_576
    last_used_flush_seconds: float = 5.0
    # Assistant activity (MCP tool calls) is kept this long, then pruned.
    activity_retention_days: int = 90
    # /metrics answers only a scrape that sends this as a bearer token; unset: 404.
    metrics_token: SecretStr | None = None
    # How long an instance may trust its credential cache without renewing its lease (PostgreSQL);
    # also the longest a revocation waits for an instance that stopped answering.
    revocation_lease_seconds: float = 2.0
    log_level: str = "info"
    # Longer than the proxy's upstream keep-alive (nginx: 60 s), so that the proxy, never the
    # instance, closes an idle connection: otherwise a POST sent as we close it fails with 502.
    keep_alive_seconds: int = 75
    # On SIGTERM: stop accepting, then give requests in flight this long to finish.
    graceful_shutdown_seconds: int = 30
    # Per worker process, PostgreSQL only (each worker also holds one listener connection).
    database_pool_size: int = 10
    database_max_overflow: int = 20
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs or
    # networks, or * behind a proxy that alone can reach the instances).
    forwarded_allow_ips: str = "127.0.0.1"
    # "auto": one short human line per event on a terminal, JSON lines otherwise.
    log_format: Literal["auto", "json", "human"] = "auto"
    access_token_seconds: int = 3600
    refresh_token_days: int = 30
    authorization_code_seconds: int = 120
    session_idle_hours: float = 12
    session_max_days: float = 7
    invitation_days: float = 7
    login_attempts_per_email: str = "5/15 minutes"
    login_attempts_per_ip: str = "30/15 minutes"
    auth_failures_per_ip: str = "30/minute"
    auth_failures_per_key_prefix: str = "10/minute"
    oauth_registrations_per_ip: str = "20/hour"
    key_requests: str = "600/minute"
    # GitHub's secret scanning public keys, as served at api.github.com/meta/public_keys/...
    secret_scanning_keys_file: Path | None = None
    secret_scanning_reports_per_ip: str = "60/minute"

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'keyhouse.db'}"
        self.base_url = self.base_url.rstrip("/")
        return self

    @property
    def is_embedded(self) -> bool:
        """True on the default single-process SQLite database."""
        return self.async_database_url.startswith("sqlite")

    @cached_property
    def async_database_url(self) -> str:
        """The database URL with the async driver we use for its dialect."""
        url = self.database_url
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @cached_property
    def secret(self) -> bytes:
        """The server secret that keys every stored hash."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"KEYHOUSE_SECRET_KEY must be a random string of at least "
                    f"{MIN_SECRET_LENGTH} characters, not a placeholder."
                )
            return value.encode()
        if not self.is_embedded:
            raise ConfigurationError(
                "KEYHOUSE_SECRET_KEY is required when the database is not the embedded SQLite; "
                "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self._embedded_secret().encode()

    def _embedded_secret(self) -> str:
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def uses_https(self) -> bool:
        """True when the public origin is https (cookies are then `Secure`)."""
        return self.base_url.startswith("https://")

    @property
    def mcp_url(self) -> str:
        """The public URL of the MCP endpoint."""
        return f"{self.base_url}/mcp"
