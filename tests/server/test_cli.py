"""The legato-server command line: help, exit codes, serve's URL announcement, ingest and user add."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server import auth
from server.catalog import Catalog
from server.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import stereo_tone, write_audio

pytestmark = ON_BOTH_ENGINES


@pytest.mark.parametrize("command", [[], ["serve"], ["ingest"], ["demo"], ["user"], ["user", "add"]])
def test_every_subcommand_has_help_that_exits_0(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: legato-server" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["user"], ["serve"], ["demo", "--data", "x", "--albums", "none"],
                                  ["user", "add", "x", "--data", "d", "--region", "Narnia"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exited:
        code = int(exited.code or 0)
    assert code == EXIT_USAGE
    assert "usage" in capsys.readouterr().err


def test_serve_on_port_0_announces_the_real_url_once_it_accepts_connections(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--data", str(tmp_path / "data"),
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("LEGATO_SERVER_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1].strip()
        assert not url.endswith(":0")
        assert httpx.get(f"{url}/health", timeout=10).json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(10)


def test_ingest_exits_1_and_names_each_failed_file_but_ingests_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_audio(tmp_path / "good.wav", stereo_tone(0.5), {"title": "Good One"})
    bad = tmp_path / "bad.flac"
    bad.write_text("not flac")
    code = main(["ingest", "--data", str(tmp_path / "data"), str(bad), str(good)])
    captured = capsys.readouterr()
    assert code == EXIT_PARTIAL
    assert f"failed: {bad}:" in captured.err
    assert "1 ingested, 0 already present, 1 failed" in captured.out
    assert main(["ingest", "--data", str(tmp_path / "data"), str(good)]) == EXIT_OK
    assert "0 ingested, 1 already present, 0 failed" in capsys.readouterr().out


def test_user_add_reads_the_password_from_stdin_and_refuses_a_taken_name(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "server", "user", "add", "ada", "--data", str(tmp_path), "--region", "se"]
    added = subprocess.run(command, input="from stdin\n", capture_output=True, text=True, check=False)
    again = subprocess.run(command, input="other\n", capture_output=True, text=True, check=False)
    assert added.returncode == EXIT_OK, added.stderr
    assert again.returncode == EXIT_PARTIAL and "already exists" in again.stderr
    catalog = Catalog.open(tmp_path)
    try:
        user = auth.authenticate(catalog, "ada", "from stdin")
    finally:
        catalog.close()
    assert user is not None and user.region == "SE"


def test_user_add_takes_the_password_as_an_option(tmp_path: Path) -> None:
    assert main(["user", "add", "bo", "--data", str(tmp_path), "--password", "pw"]) == EXIT_OK
    catalog = Catalog.open(tmp_path)
    try:
        assert auth.authenticate(catalog, "bo", "pw") is not None
    finally:
        catalog.close()
