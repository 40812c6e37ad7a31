"""The ``hyper-admin`` command and ``python -m hyper_admin.demo``."""

import subprocess
import sys

from hyper_admin import __version__
from hyper_admin.cli import main


def test_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_unknown_command_and_help(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_demo_seeds_then_reseeds_when_the_size_changes(tmp_path, capsys):
    url = f"sqlite://{tmp_path / 'demo.db'}"
    assert main(["demo", "--rows", "40", "--seed-only", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "Seeded" in out
    assert main(["demo", "--rows", "40", "--seed-only", "--database-url", url]) == 0
    assert "Seeded" not in capsys.readouterr().out  # same size: kept as it is
    assert main(["demo", "--rows", "60", "--seed-only", "--database-url", url]) == 0
    assert "Seeding 60 orders" in capsys.readouterr().out


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "hyper_admin.cli", "version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == __version__


def test_templates_path_names_the_shipped_templates(capsys):
    from pathlib import Path

    assert main(["templates-path"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert (folder / "hyper_admin" / "layout.html").is_file()
    out = subprocess.run([sys.executable, "-m", "hyper_admin", "templates-path"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out) == folder
