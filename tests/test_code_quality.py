"""No block of hyper_admin above radon's grade D (cyclomatic complexity over 30: grades E and F).

A function that dense does several jobs at once; split it into helpers that each do one, as
time_series_svg, select_list, action_view, build_query_admin and the demo's _gen_orders were
(issue 17). The test runs radon's API over every .py file of the package, functions, methods,
nested functions and classes alike, and names each block it refuses."""

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hyper_admin"
REFUSED_GRADES = {"E", "F"}


def _blocks(blocks, prefix: str = ""):
    """Every block radon found, with the name of the block around it (``Class.method``,
    ``function.closure``): radon nests methods, inner classes and closures inside their parent."""
    for block in blocks:
        name = f"{prefix}{block.name}"
        yield name, block
        inner = [*getattr(block, "methods", ()), *getattr(block, "inner_classes", ()),
                 *getattr(block, "closures", ())]
        yield from _blocks(inner, f"{name}.")


def too_complex(source: str, filename: str) -> list[str]:
    """``file:line name (grade complexity)`` of each block of ``source`` graded E or F."""
    found = []
    for name, block in _blocks(cc_visit(source)):
        grade = cc_rank(block.complexity)
        if grade in REFUSED_GRADES:
            found.append(f"{filename}:{block.lineno} {name} ({grade} {block.complexity})")
    return found


def test_no_block_of_the_package_is_graded_e_or_f():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30  # the package, not an empty folder
    found = []
    for path in files:
        found += too_complex(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, ("split these into helpers with one job each (radon grade D or better): "
                       + "; ".join(found))


def _branchy_source(branches: int, indent: str = "    ") -> str:
    lines = [f"{indent}if x == {i}:\n{indent}    return {i}" for i in range(branches)]
    return "\n".join(lines) + f"\n{indent}return -1\n"


def test_the_check_names_a_dense_function_method_and_closure():
    source = (
        "def dense(x):\n" + _branchy_source(31)
        + "def fine(x):\n" + _branchy_source(29)
        + "class Holder:\n    def dense_method(self, x):\n" + _branchy_source(40, " " * 8)
        + "def outer():\n    def dense_closure(x):\n" + _branchy_source(35, " " * 8)
        + "    return dense_closure\n"
    )
    found = too_complex(source, "example.py")
    assert "example.py:1 dense (E 32)" in found
    assert any(item.startswith("example.py:") and " Holder.dense_method (F 41)" in item
               for item in found)
    assert any(" outer.dense_closure (" in item for item in found)
    assert not any(" fine " in item for item in found)
