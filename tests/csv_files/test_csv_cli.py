"""`keyhouse import` and `keyhouse export` on the test database."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyhouse.cli import app
from keyhouse.config import Settings
from tests.factories import unique


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner whose environment points at this run's database."""
    monkeypatch.setenv("KEYHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KEYHOUSE_SECRET_KEY", settings.secret.decode())
    monkeypatch.setenv("KEYHOUSE_VAR_DIR", str(settings.var_dir))
    return CliRunner()


def _account(runner: CliRunner, tmp_path: Path) -> str:
    admin = f"{unique('admin')}@example.com"
    created = runner.invoke(
        app,
        ["account", "create", f"Csv {tmp_path.name}", "--admin-email", admin, "--json"],
    )
    assert created.exit_code == 0, created.output
    slug: str = json.loads(created.stdout)["slug"]
    return slug


def test_cli_import_is_all_or_nothing_then_skips_invalid_into_a_reject_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    account = _account(runner, tmp_path)
    reps = tmp_path / "reps.csv"
    reps.write_text("name,email\nAna,ana@example.com\n")
    assert runner.invoke(app, ["import", "reps", str(reps), "--account", account]).exit_code == 0
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "name,fit_score,owner_email\nAcme,90,ana@example.com\nBad,-1,\nLost,5,x@example.com\n"
    )
    refused = runner.invoke(app, ["import", "accounts", str(accounts), "--account", account])
    assert refused.exit_code == 1
    assert "line 3: fit_score" in refused.output
    assert "line 4: owner_email" in refused.output
    exported = runner.invoke(app, ["export", "accounts", "--account", account])
    assert exported.stdout.count("\n") == 1  # the header only: nothing was imported
    rejects = tmp_path / "rejects.csv"
    skipped = runner.invoke(
        app,
        [
            "import",
            "accounts",
            str(accounts),
            "--account",
            account,
            "--skip-invalid",
            "--reject-file",
            str(rejects),
        ],
    )
    assert skipped.exit_code == 0, skipped.output
    assert "Created 1" in skipped.output
    with rejects.open() as rejected:
        assert [(row["line"], row["name"]) for row in csv.DictReader(rejected)] == [
            ("3", "Bad"),
            ("4", "Lost"),
        ]
    out = tmp_path / "out.csv"
    assert (
        runner.invoke(
            app, ["export", "accounts", "--account", account, "--output", str(out)]
        ).exit_code
        == 0
    )
    with out.open() as exported_file:
        [row] = list(csv.DictReader(exported_file))
    assert (row["name"], row["owner_email"]) == ("Acme", "ana@example.com")


def test_cli_export_imported_back_is_reported_unchanged_and_changes_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    account = _account(runner, tmp_path)
    reps = tmp_path / "reps.csv"
    reps.write_text("name,email,active\nAna,ana@example.com,true\nGil,gil@example.com,true\n")
    assert runner.invoke(app, ["import", "reps", str(reps), "--account", account]).exit_code == 0
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "name,tier,owner_email\nAcme,1,ana@example.com\nBeta,2,gil@example.com\nGamma,3,\n"
    )
    assert (
        runner.invoke(app, ["import", "accounts", str(accounts), "--account", account]).exit_code
        == 0
    )
    reps.write_text("name,email,active\nGil,gil@example.com,false\n")  # Gil leaves, keeps Beta
    assert runner.invoke(app, ["import", "reps", str(reps), "--account", account]).exit_code == 0
    exported = tmp_path / "export.csv"
    export = ["export", "accounts", "--account", account, "--output", str(exported)]
    assert runner.invoke(app, export).exit_code == 0
    first = exported.read_text()
    again = runner.invoke(app, ["import", "accounts", str(exported), "--account", account])
    assert again.exit_code == 0, again.output
    assert "Created 0, updated 0, unchanged 3, rejected 0." in again.output
    as_json = runner.invoke(
        app, ["import", "accounts", str(exported), "--account", account, "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    assert (report["rejected"], report["errors"]) == (0, [])
    assert runner.invoke(app, export).exit_code == 0
    assert exported.read_text() == first
