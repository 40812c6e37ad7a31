"""The layers of DEVELOPERS.md hold: import-linter's contracts ([tool.importlinter] in
pyproject.toml) pass, and every module of hyper_admin is in one layer, so that a new module
cannot escape them by being left out."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hyper_admin"


def layered_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    return [name.strip() for layer in layers for name in layer.replace("|", ":").split(":")]


def top_level_modules() -> set[str]:
    found = set()
    for path in PACKAGE.iterdir():
        if path.name.startswith("_") or path.name == "__pycache__":
            continue
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            found.add(f"hyper_admin.{path.stem}")
    return found


def test_every_module_is_in_exactly_one_layer():
    listed = layered_modules()
    assert len(listed) == len(set(listed)), "a module is in two layers"
    missing = top_level_modules() - set(listed)
    assert not missing, f"put these in a layer of [tool.importlinter] in pyproject.toml: {sorted(missing)}"
    gone = set(listed) - top_level_modules()
    assert not gone, f"these layers name modules that do not exist: {sorted(gone)}"


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout
