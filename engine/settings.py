"""Configuration from environment variables (the public contract in product.md).

``DATABASE_URL`` (default: SQLite file in the data directory), ``REDIS_URL`` (unset: jobs run
in-process), ``SECRET_KEY`` (unset: generated once and kept in the data directory),
``QMS_DATA_DIR``, ``QMS_ADMIN_EMAIL`` / ``QMS_ADMIN_PASSWORD``, ``QMS_DEMO`` (1/0), ``QMS_DEMO_SIZE``
(small / default / large / a number of inspections: how much demo data first start generates),
``HOST`` / ``PORT``, ``SMTP_*``.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    admin_email: str | None
    admin_password: str | None
    demo: bool
    host: str
    port: int
    smtp: Mapping[str, str] = field(default_factory=dict)
    demo_size: str = "default"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data dir."""
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("QMS_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'qms.sqlite3'}"
    try:
        port = int(env.get("PORT") or 5000)
    except ValueError:
        raise ValueError(f"PORT must be a number, got {env.get('PORT')!r}") from None
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        secret_key=_secret_key(env, data_dir),
        admin_email=env.get("QMS_ADMIN_EMAIL") or None,
        admin_password=env.get("QMS_ADMIN_PASSWORD") or None,
        demo=_flag(env.get("QMS_DEMO"), True),
        host=env.get("HOST") or "127.0.0.1",
        port=port,
        smtp={k: v for k, v in env.items() if k.startswith("SMTP_")},
        demo_size=(env.get("QMS_DEMO_SIZE") or "default").strip(),
    )
