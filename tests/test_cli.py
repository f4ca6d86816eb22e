"""The ``consular`` command line, run as a user would through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consular.cli import app
from consular.settings import DEFAULT_CATALOGUE_FILE
from knowledge.catalogue import load_catalogue
from tests.conftest import make_doc, write_doc

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"


def _env(tmp_path, kb_dir=None, **extra):
    env = {"CONSULAR_DATA_DIR": str(tmp_path / "var"), **extra}
    if kb_dir is not None:
        env.update(
            {
                "CONSULAR_KB_DIR": str(kb_dir),
                "CONSULAR_CATALOGUE_FILE": "",
                "CONSULAR_MISSIONS_FILE": str(FIXTURES / "missions.yaml"),
            }
        )
    return env


def test_kb_list_json_shows_the_whole_catalogue(tmp_path):
    result = runner.invoke(app, ["kb", "list", "--json"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    listed = {(row["id"], row["lang"]) for row in data["documents"]}
    for entry in load_catalogue(DEFAULT_CATALOGUE_FILE):
        assert {(entry.id, lang) for lang in entry.languages} <= listed
    assert data["problems"] == 0


def test_kb_show_json_and_unknown_id(tmp_path):
    result = runner.invoke(
        app, ["kb", "show", "passport-lost", "--lang", "fr", "--json"], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "passport-lost" and data["lang"] == "fr"
    assert {"vi", "en", "fr"} <= set(data["languages"]) and data["sections"]

    missing = runner.invoke(app, ["kb", "show", "no-such-procedure"], env=_env(tmp_path))
    assert missing.exit_code == 1
    assert "No document 'no-such-procedure'" in missing.output


def test_kb_check_lists_every_problem_and_exits_non_zero(tmp_path):
    kb = tmp_path / "kb"
    write_doc(kb, "passport-renewal", "en", make_doc())
    write_doc(
        kb,
        "passport-lost",
        "en",
        make_doc("passport-lost").replace("status: published", "status: ok"),
    )
    write_doc(kb, "e-visa", "vi", make_doc("e-visa", "en"))
    result = runner.invoke(app, ["kb", "check"], env=_env(tmp_path, kb))
    assert result.exit_code == 1
    assert "passport-lost.md: status:" in result.output
    assert "e-visa.md: lang:" in result.output
    assert "2 problem(s); 1 document(s) valid." in result.output

    good = tmp_path / "good"
    write_doc(good, "passport-renewal", "en", make_doc())
    ok = runner.invoke(app, ["kb", "check"], env=_env(tmp_path, good))
    assert ok.exit_code == 0 and "OK: 1 documents" in ok.output


def test_kb_import_writes_a_draft_from_flags(tmp_path):
    kb = tmp_path / "kb"
    page = tmp_path / "visa.html"
    page.write_text("<h1>Visa</h1><p>Apply at the embassy.</p><h2>Fee</h2><p>25 USD.</p>")
    args = [
        "kb",
        "import",
        str(page),
        "--id",
        "visa-at-mission",
        "--lang",
        "en",
        "--title",
        "Visa",
        "--topics",
        "visa",
        "--source",
        "https://example.gov.vn/visa",
        "--reviewed",
        "2026-11-01",
    ]
    result = runner.invoke(app, args, env=_env(tmp_path, kb))
    assert result.exit_code == 0, result.output
    assert "draft" in result.output
    assert (kb / "en" / "visa-at-mission.md").is_file()
    again = runner.invoke(app, args, env=_env(tmp_path, kb))
    assert again.exit_code == 1 and "already exists" in again.output

    bad = runner.invoke(app, ["kb", "import", str(page)], env=_env(tmp_path, kb))
    assert bad.exit_code == 1 and "Missing or invalid metadata" in bad.output


def _small_corpus(tmp_path):
    kb = tmp_path / "corpus"
    write_doc(
        kb,
        "e-visa",
        "en",
        make_doc(
            "e-visa",
            title="Vietnam e-visa online",
            body="Apply online.\n\n## Who can apply\nAll nationalities, up to 90 days.",
        ),
    )
    write_doc(
        kb,
        "passport-lost",
        "en",
        make_doc(
            "passport-lost",
            title="Lost passport",
            body="Report it.\n\n## What to do\nReport the loss to the police and the embassy.",
        ),
    )
    return kb


def test_index_and_search_commands(tmp_path):
    env = _env(tmp_path, _small_corpus(tmp_path))
    indexed = runner.invoke(app, ["index", "--json"], env=env)
    assert indexed.exit_code == 0, indexed.output
    assert json.loads(indexed.output)["added"] > 0
    found = runner.invoke(app, ["search", "my passport was stolen", "--json", "-k", "2"], env=env)
    assert found.exit_code == 0, found.output
    data = json.loads(found.output)
    assert data["results"][0]["doc_id"] == "passport-lost"
    assert data["results"][0]["sections"] and 0 <= data["confidence"] <= 1


def test_eval_retrieval_on_any_corpus_and_question_file(tmp_path):
    corpus = _small_corpus(tmp_path)
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {
                    "id": "a",
                    "lang": "en",
                    "turns": ["someone stole my passport"],
                    "docs": ["passport-lost"],
                    "handoff": "none",
                    "declined": False,
                    "tags": ["theft"],
                },
                {
                    "id": "b",
                    "lang": "en",
                    "turns": ["can I get an e-visa"],
                    "docs": ["e-visa"],
                    "handoff": "none",
                    "declined": False,
                    "tags": [],
                },
                {
                    "id": "c",
                    "lang": "en",
                    "turns": ["tell me a joke"],
                    "docs": [],
                    "handoff": "none",
                    "declined": True,
                    "tags": ["out-of-scope"],
                },
            ]
        )
    )
    result = runner.invoke(
        app,
        ["eval", "retrieval", "--corpus", str(corpus), "--questions", str(questions), "--json"],
        env=_env(tmp_path),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["overall"] == {"n": 2, "hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0}
    assert report["by_tag"]["theft"]["n"] == 1 and report["skipped"] == 1
    assert not (tmp_path / "var" / "index").exists()  # a given corpus goes to a temporary index


def test_eval_rejects_a_malformed_question_file(tmp_path):
    questions = tmp_path / "bad.jsonl"
    questions.write_text('{"id": "x", "lang": "en"}\n')
    with pytest.raises(Exception) as excinfo:
        runner.invoke(
            app,
            ["eval", "retrieval", "--questions", str(questions)],
            env=_env(tmp_path),
            catch_exceptions=False,
        )
    assert "bad.jsonl:1" in str(excinfo.value)
