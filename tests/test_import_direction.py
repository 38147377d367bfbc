"""Imports flow one way, as docs/architecture.md states it (its `imports` block is parsed here).

Every import of the package is checked, including those inside functions, so a lazy import
cannot turn the direction around either.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "repvideo_eval"
ARCHITECTURE = REPO / "docs" / "architecture.md"


def allowed_imports(text: str) -> dict[str, set[str]]:
    """unit -> the units it may import, from the document's ```imports block."""
    match = re.search(r"```imports\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md has no ```imports block"
    lines = dict(line.split(":", 1) for line in match.group(1).strip().splitlines())
    shared = lines.pop("shared").split()
    allowed = {unit: set(shared[:i]) for i, unit in enumerate(shared)}
    for unit, deps in lines.items():
        allowed[unit.strip()] = set(shared) | set(deps.split())
    return allowed


def unit_of(module: str) -> str:
    """`repvideo_eval.scoring.session` -> `scoring`; `repvideo_eval.planning` -> `planning`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported repvideo_eval module, line) for every import in one file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = (
                [f"repvideo_eval.{alias.name}" for alias in node.names]
                if node.module == "repvideo_eval"
                else [node.module]
            )
        else:
            continue
        for name in names:
            if name.startswith("repvideo_eval."):
                yield name, node.lineno


def units_on_disk() -> set[str]:
    return {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }


def test_every_unit_of_the_package_is_in_the_document() -> None:
    assert units_on_disk() == set(allowed_imports(ARCHITECTURE.read_text(encoding="utf-8")))


def test_imports_follow_the_documented_direction() -> None:
    allowed = allowed_imports(ARCHITECTURE.read_text(encoding="utf-8"))
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative == Path("__init__.py"):
            continue
        source = relative.parts[0].removesuffix(".py")
        for module, line in package_imports(path):
            target = unit_of(module)
            if target != source and target not in allowed[source]:
                wrong.append(f"{relative}:{line} imports {module} ({source} -> {target})")
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The parser and checker catch a lazy import that goes against the direction."""
    allowed = allowed_imports("```imports\nshared: errors config\nscoring:\ncli: scoring\n```")
    assert allowed == {
        "errors": set(),
        "config": {"errors"},
        "scoring": {"errors", "config"},
        "cli": {"errors", "config", "scoring"},
    }
    bad = tmp_path / "session.py"
    bad.write_text(
        "def f():\n    from repvideo_eval.cli import main\n    import repvideo_eval.config\n"
    )
    found = [(unit_of(m), line) for m, line in package_imports(bad)]
    assert found == [("cli", 2), ("config", 3)]
    assert "cli" not in allowed["scoring"] and "config" in allowed["scoring"]
