"""The documentation site builds with ``mkdocs build --strict``: a broken link, a link to a
missing heading, or a page left out of the navigation fails the build and so this test
(mkdocs.yml's ``validation`` turns each into a warning, ``--strict`` into an error)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_site_builds_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("index.html")}
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    for page in pages - {"index"}:
        assert f"{page}/index.html" in built, f"docs/{page}.md was not built"


def test_a_broken_link_fails_the_build(tmp_path):
    """The check itself: the same configuration with one broken link must fail."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [nothing](missing.md) and [a heading](#nope).\n")
    config = (ROOT / "mkdocs.yml").read_text()
    head = config.partition("\nnav:")[0]
    validation = config[config.index("\nvalidation:"):]
    config = head + "\nnav:\n  - Home: index.md\n" + validation
    (tmp_path / "mkdocs.yml").write_text(config)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode != 0
    assert "missing.md" in result.stdout + result.stderr
    assert "#nope" in result.stdout + result.stderr
