"""DEVELOPERS.md's module map (the ``` block under "## Layout") holds against the tree.

The map is a two-column block: an entry's name at indent 0 (a path from the repository's
root), 2 (inside the folder entry above it) or 4 (inside a nested folder); its description
in the right column, continued on lines indented past the names. The rules:

- Every Python module of the package and of each of its subpackages (``hyper_admin/*.py``,
  ``hyper_admin/views/*.py``, ``hyper_admin/demo/*.py``...) has an entry of its own under its
  folder's entry, and every folder of the package has one (``__pycache__`` aside). A
  subpackage's ``__init__.py`` is described by its folder's line, so it has no entry; the
  package's own ``__init__.py`` has one.
- Every entry names something that exists.
- The folders whose line lists their files in prose (:data:`PROSE_FOLDERS`) name every file of
  the kinds given there, and every file name their text gives (``name.py``, ``vendor/x.js``,
  globs such as ``htmx-*.min.js``) exists, in that folder or from the repository's root.
- The ``__init__.py`` entry's "public names only: A, B, ..." (the list ends at the first "("
  or other punctuation) lists exactly ``hyper_admin.__all__``, ``__version__`` included: it is
  in ``__all__``, so the rule needs no exception.

A failure lists what to add to the map and what to remove from it, folder by folder.
"""

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import hyper_admin

ROOT = Path(__file__).resolve().parent.parent
DEVELOPERS = ROOT / "DEVELOPERS.md"
PACKAGE = "hyper_admin/"

#: Folders whose entry names their files in its description rather than in entries of
#: their own, and which of their files must be named (fnmatch patterns on the file name;
#: "dir/" patterns for folders). Test modules (test_*.py) are found by pytest, not the map:
#: only the modules tests share are named (NOT_NAMED).
PROSE_FOLDERS = {
    "static/": ["*.js", "*.css", "*.svg", "*/"],
    "bench/": ["*.py"],
    "scripts/": ["*"],
    "tests/": ["*.py", "*/"],
    "tests/reliability/": ["*.py"],
    "e2e/": ["*.py"],
}
NOT_NAMED = ["test_*.py", "__pycache__/"]

#: A file named in a description: a name with an extension we ship or run, maybe a path or glob.
FILE_NAME = re.compile(
    r"(?<![\w./*<>-])((?:[\w*.-]+/)*[\w*-][\w*.-]*\.(?:py|js|mjs|css|svg|json))\b")
#: A folder named in a description: "vendor/", "host_templates/".
FOLDER_NAME = re.compile(r"(?<![\w./<>-])([\w-]+/)(?![\w<*])")


@dataclass
class Entry:
    path: str         # from the repository's root; folders end with "/"
    folder: str       # the folder entry it sits in ("" at the top)
    name: str         # as written in the left column
    description: str  # the right column, continuation lines joined by spaces


def layout_block(text: str) -> list[str]:
    """The lines of the first ``` block after the "## Layout" heading."""
    after = text.split("\n## Layout\n", 1)[1]
    block = after.split("```", 2)[1]
    return block.split("\n")[1:]  # the first line is the fence's info string (empty)


def parse_map(lines: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    folders: list[tuple[int, str]] = []  # (indent, path) of the folder entries enclosing a line
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 8:  # a description continued
            entries[-1].description += " " + line.strip()
            continue
        name, _, description = line.strip().partition("  ")
        while folders and folders[-1][0] >= indent:
            folders.pop()
        folder = folders[-1][1] if folders else ""
        for part in name.split(", "):  # "docs/, mkdocs.yml": two paths on one line
            entries.append(Entry(folder + part, folder, part, description.strip()))
        if name.endswith("/"):
            folders.append((indent, folder + name))
    return entries


def read_map() -> list[Entry]:
    return parse_map(layout_block(DEVELOPERS.read_text(encoding="utf-8")))


def _exists(path: str, base: str, root: Path) -> bool:
    """Whether ``path`` (maybe a glob) exists relative to ``base`` or to the repository's root."""
    for start in {base, ""}:
        if "*" in path:
            if list((root / start).glob(path.rstrip("/"))):
                return True
        elif (root / start / path).exists():
            return True
    return False


def _package_folders(root: Path) -> list[Path]:
    """The package and every subpackage of it (a folder with an __init__.py)."""
    return [root] + sorted(p.parent for p in root.glob("*/**/__init__.py")
                           if "__pycache__" not in p.parts)


def _package_contents(folder: Path, is_subpackage: bool) -> set[str]:
    """The modules and folders an entry must describe (a subpackage's __init__.py is its
    folder's line)."""
    names = {p.name + "/" for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"}
    names |= {p.name for p in folder.glob("*.py")}
    if is_subpackage:
        names.discard("__init__.py")
    return names


def _say(problems: list[str], folder: str, verb: str, names: set[str], why: str) -> None:
    if names:
        problems.append(f"{folder}: {verb} {', '.join(sorted(names))} ({why})")


def package_problems(entries: list[Entry], root: Path = ROOT) -> list[str]:
    """Modules and folders of the package against the entries under hyper_admin/."""
    problems: list[str] = []
    for folder in _package_folders(root / PACKAGE):
        rel = folder.relative_to(root).as_posix() + "/"
        in_tree = _package_contents(folder, is_subpackage=rel != PACKAGE)
        in_map = {e.name for e in entries if e.folder == rel}
        _say(problems, rel, "add entries for", in_tree - in_map, "in the tree, not in the map")
        _say(problems, rel, "remove the entries", in_map - in_tree, "in the map, not in the tree")
    return problems


def missing_entries(entries: list[Entry], root: Path = ROOT) -> list[str]:
    """Entries outside the package that name nothing."""
    gone = {e.path for e in entries
            if not e.path.startswith(PACKAGE) and not (root / e.path).exists()}
    return [f"(top level): remove or correct the entry {path} (no such file or folder)"
            for path in sorted(gone)]


def prose_problems(entries: list[Entry], root: Path = ROOT) -> list[str]:
    """Folders that list their files in prose: named both ways."""
    problems: list[str] = []
    by_path = {e.path: e for e in entries}
    for folder, patterns in PROSE_FOLDERS.items():
        entry = by_path.get(folder)
        # scripts/vendor.mjs is an entry of its own: a folder may be given by its files' entries.
        described = entry.description if entry else ""
        entry_names = {e.path[len(folder):] for e in entries
                       if e.path.startswith(folder) and e.path != folder}
        files = set(FILE_NAME.findall(described))
        folders = set(FOLDER_NAME.findall(described))
        named = files | folders | entry_names
        in_tree = set()
        for child in (root / folder).iterdir():
            name = child.name + "/" if child.is_dir() else child.name
            if any(fnmatch.fnmatchcase(name, p) for p in NOT_NAMED):
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in patterns
                   if p.endswith("/") == name.endswith("/")):
                in_tree.add(name)
        unnamed = {n for n in in_tree
                   if not any(fnmatch.fnmatchcase(n, m) or n == m.split("/")[0] + "/"
                              for m in named)}
        _say(problems, folder, "name", unnamed, "in the tree, not in the map")
        absent = {n for n in files if not _exists(n, folder, root)}
        _say(problems, folder, "stop naming", absent, "named in the map, not in the tree")
    return problems


def public_names_line(entries: list[Entry]) -> list[str]:
    init = next(e for e in entries if e.path == PACKAGE + "__init__.py")
    listed = init.description.split("public names only:", 1)[1]
    names = re.match(r"[\w\s,]*", listed).group()  # the list ends where other text starts: "("
    return [name.strip() for name in names.split(",") if name.strip()]


def public_name_problems(entries: list[Entry], exported: list[str]) -> list[str]:
    listed = set(public_names_line(entries))
    problems: list[str] = []
    _say(problems, PACKAGE + "__init__.py", "add to its public names", set(exported) - listed,
         "in hyper_admin.__all__")
    _say(problems, PACKAGE + "__init__.py", "remove from its public names", listed - set(exported),
         "not in hyper_admin.__all__")
    return problems


def _report(problems: list[str]) -> str:
    return "DEVELOPERS.md's Layout block has drifted from the tree:\n  " + "\n  ".join(problems)


# --- the checks ----------------------------------------------------------------------------


def test_the_map_is_read():
    """The parser finds entries where the map puts them (a parser that finds nothing passes
    every other test)."""
    entries = read_map()
    paths = {e.path for e in entries}
    assert {"hyper_admin/", "hyper_admin/site.py", "hyper_admin/views/",
            "hyper_admin/views/render.py", "static/", "tests/", "docs/", "mkdocs.yml"} <= paths
    assert len([e for e in entries if e.folder == "hyper_admin/views/"]) >= 10
    site = next(e for e in entries if e.path == "hyper_admin/site.py")
    assert "Admin" in site.description and "URL table" in site.description


def _fail_on(problems: list[str]) -> None:
    if problems:
        pytest.fail(_report(problems), pytrace=False)


def test_every_module_of_the_package_is_in_the_map_and_nothing_else():
    _fail_on(package_problems(read_map()))


def test_every_entry_outside_the_package_exists():
    _fail_on(missing_entries(read_map()))


def test_folders_described_in_prose_name_their_files():
    _fail_on(prose_problems(read_map()))


def test_public_names_are_hyper_admin_all():
    _fail_on(public_name_problems(read_map(), hyper_admin.__all__))


SAMPLE_MAP = """\
hyper_admin/            the package
  __init__.py           public names only: Admin, __version__ (and a remark)
  site.py               Admin
  gone.py               a module deleted since
  views/                thin views
    render.py           render_page
static/                 admin.css, palettes.js, vendor/htmx-*.min.js
tests/                  shared modules: apps.py, missing_helper.py
tests/reliability/      harness.py
bench/                  list_bench.py
scripts/vendor.mjs      the vendoring script
e2e/                    browser tests, conftest.py
old_folder/             gone
"""


def test_the_checks_say_what_to_add_and_remove(tmp_path):
    """Drift is caught and told precisely, on a small tree of its own: a module missing from
    the map, an entry for a module that is gone, a subpackage's module, a public name too many
    or too few, a static file not named, a file named that is not there, a top-level entry
    that is gone."""
    for path in ["hyper_admin/__init__.py", "hyper_admin/site.py", "hyper_admin/changes.py",
                 "hyper_admin/views/__init__.py", "hyper_admin/views/render.py",
                 "hyper_admin/views/lookup.py", "static/admin.css", "static/palette.js",
                 "static/vendor/htmx-2.0.0.min.js", "tests/apps.py", "tests/pg.py",
                 "tests/test_site.py", "bench/list_bench.py", "scripts/vendor.mjs",
                 "tests/reliability/harness.py", "e2e/conftest.py"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    entries = parse_map(SAMPLE_MAP.split("\n"))

    assert package_problems(entries, tmp_path) == [
        "hyper_admin/: add entries for changes.py (in the tree, not in the map)",
        "hyper_admin/: remove the entries gone.py (in the map, not in the tree)",
        "hyper_admin/views/: add entries for lookup.py (in the tree, not in the map)",
    ]
    assert missing_entries(entries, tmp_path) == [
        "(top level): remove or correct the entry old_folder/ (no such file or folder)"]
    assert prose_problems(entries, tmp_path) == [
        "static/: name palette.js (in the tree, not in the map)",
        "static/: stop naming palettes.js (named in the map, not in the tree)",
        "tests/: name pg.py (in the tree, not in the map)",
        "tests/: stop naming missing_helper.py (named in the map, not in the tree)",
    ]

    assert public_name_problems(entries, ["Admin", "changes", "__version__"]) == [
        "hyper_admin/__init__.py: add to its public names changes (in hyper_admin.__all__)"]
    assert public_name_problems(entries, ["__version__"]) == [
        "hyper_admin/__init__.py: remove from its public names Admin (not in hyper_admin.__all__)"]
