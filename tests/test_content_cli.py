"""``consular content ...`` run as an operator would, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consular.cli import app
from consular.settings import Settings
from tests.conftest import make_doc, write_doc

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"
META = ("--id", "fee-table", "--lang", "en", "--title", "Fees", "--topics", "fees")
META += ("--source", "https://example.gov.vn/fees", "--reviewed", "2026-11-01")
NEW_FEE = "Intro for citizens.\n\n## Documents to bring\n- the old passport\n\n## Fee\n90 USD."


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data folder with two editor accounts and a knowledge base of one document."""
    from bot.assembly import open_store
    from bot.officer_store import UserStore

    kb = tmp_path / "kb"
    write_doc(kb, "passport-renewal", "en", make_doc())
    values = {
        "CONSULAR_DATA_DIR": str(tmp_path / "var"),
        "CONSULAR_KB_DIR": str(kb),
        "CONSULAR_CATALOGUE_FILE": "",
        "CONSULAR_MISSIONS_FILE": str(FIXTURES / "missions.yaml"),
    }
    settings = Settings(
        data_dir=tmp_path / "var", kb_dir=kb, missions_file=FIXTURES / "missions.yaml"
    )
    users = UserStore(open_store(settings).sessions)
    users.add("an", "correct horse battery", "content_editor")
    users.add("binh", "correct horse battery", "admin")
    users.add("lan", "correct horse battery", "officer")
    return values


def _ok(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["content", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _json(env: dict[str, str], *args: str) -> dict:
    result = runner.invoke(app, ["content", *args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _fails(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["content", *args], env=env)
    assert result.exit_code == 1, result.output
    return result.output


def test_sync_list_show_and_history(env: dict[str, str]) -> None:
    assert "1 published, 0 retired, 0 draft(s), 0 unchanged." in _ok(env, "sync")
    assert _json(env, "sync")["unchanged"] == 1
    [row] = _json(env, "list")["documents"]
    assert (row["doc_id"], row["status"], row["live_number"]) == (
        "passport-renewal",
        "published",
        1,
    )
    assert "passport-renewal" in _ok(env, "list", "--status", "published")
    assert "0 document(s)." in _ok(env, "list", "--status", "draft")
    shown = _json(env, "show", "passport-renewal", "--lang", "en")
    assert shown["revision"]["markdown"].startswith("---\nid: passport-renewal")
    [revision] = _json(env, "history", "passport-renewal", "--lang", "en")["revisions"]
    assert (revision["author"], revision["origin"]) == ("files", "files")
    assert "No document 'nothing'" in _fails(env, "history", "nothing", "--lang", "en")


def test_import_review_publish_retire_and_rollback(env: dict[str, str], tmp_path: Path) -> None:
    synced = runner.invoke(app, ["content", "sync"], env=env)
    assert "Index updated: 3 chunk(s) added, 0 removed" in synced.stderr
    page = tmp_path / "renewal.md"
    page.write_text(make_doc(body=NEW_FEE, status="draft"), encoding="utf-8")
    draft = _json(env, "import", str(page), "--actor", "an", "--reason", "fee changed")
    assert (draft["state"], draft["number"], draft["origin"]) == ("draft", 2, "upload")
    rev = str(draft["id"])

    assert "not an active content editor" in _fails(env, "submit", rev, "--actor", "lan")
    assert "now in review" in _ok(env, "submit", rev, "--actor", "an")
    assert "another editor must review it" in _fails(env, "publish", rev, "--actor", "an")
    published = runner.invoke(app, ["content", "publish", rev, "--actor", "binh"], env=env)
    assert published.exit_code == 0, published.output
    assert "is now published" in published.stdout
    # Re-indexed at once and incrementally: the two changed sections, not the intro.
    assert "Index updated: 2 chunk(s) added, 2 removed" in published.stderr

    diff = _ok(env, "diff", "1", rev)
    assert diff.splitlines() == [
        "~   9: status: published",
        "~   9> status: draft",
        "-  16: - two photos",
        "~  19: 70 USD.",
        "~  18> 90 USD.",
    ]
    rows = _json(env, "diff", "1", rev)["rows"]
    assert {
        "kind": "changed",
        "left_no": 19,
        "left": "70 USD.",
        "right_no": 18,
        "right": "90 USD.",
    } in rows

    assert "Give a reason" in _fails(
        env, "retire", "passport-renewal", "--lang", "en", "--actor", "an", "--reason", " "
    )
    retired = _json(
        env, "retire", "passport-renewal", "--lang", "en", "--actor", "an", "--reason", "abolished"
    )
    assert retired["state"] == "retired"
    assert _json(env, "list", "--status", "retired")["documents"][0]["live_number"] is None

    restored = _json(
        env,
        "rollback",
        "passport-renewal",
        "--lang",
        "en",
        "--to",
        "1",
        "--actor",
        "binh",
        "--reason",
        "fee unchanged after all",
    )
    assert (restored["number"], restored["state"], restored["origin"]) == (
        3,
        "published",
        "rollback",
    )
    states = [
        r["state"] for r in _json(env, "history", "passport-renewal", "--lang", "en")["revisions"]
    ]
    assert states == ["published", "retired", "superseded"]


def test_submit_lists_the_problems_and_reject_sends_back(
    env: dict[str, str], tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<main><h2>Fee</h2><p>10 USD.</p></main>", encoding="utf-8")
    missing = _fails(env, "import", str(page), "--actor", "an", "--id", "fee-table")
    assert "could not be converted" in missing and "lang" in missing
    draft = _json(env, "import", str(page), "--actor", "an", *META)
    assert "now in review" in _ok(env, "submit", str(draft["id"]), "--actor", "an")
    rejected = _json(env, "reject", str(draft["id"]), "--actor", "binh", "--note", "too short")
    assert (rejected["state"], rejected["review_note"]) == ("rejected", "too short")
    # A draft that is not valid yet is kept; submit lists what is wrong with it.
    empty = page.with_name("empty.html")
    empty.write_text("<main><nav>menu</nav></main>", encoding="utf-8")
    draft = _json(env, "import", str(empty), "--actor", "an", *META)
    refused = _fails(env, "submit", str(draft["id"]), "--actor", "an")
    assert "- body: empty: the document has no text" in refused
    assert "The document has problems" in refused


def test_stale_filter_uses_the_configured_age(env: dict[str, str]) -> None:
    _ok(env, "sync")
    assert _json(env, "list", "--stale")["documents"] == []
    old = {**env, "CONSULAR_CONTENT_REVIEW_MAX_AGE_DAYS": "1"}
    [row] = _json(old, "list", "--stale")["documents"]
    assert row["stale"] and row["reviewed"] == "2026-10-01"
