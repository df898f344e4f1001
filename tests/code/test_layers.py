"""The code's shape: one-way layers (import-linter) and imports at the top of modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "prices_predictor"
REASON = "# lazy:"


def function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, source) of every import inside a function of ``path``."""
    lines = path.read_text().splitlines()
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    out.append((sub.lineno, lines[sub.lineno - 1]))
    return out


def test_layers_only_import_downwards() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 kept, 0 broken" in proc.stdout


def _has_reason(lines: list[str], lineno: int) -> bool:
    """A ``# lazy:`` comment on the import, or above the group of imports it belongs to."""
    i = lineno - 1
    while i >= 0:
        text = lines[i].strip()
        if REASON in text:
            return True
        if not text.startswith(("import ", "from ", ")", '"', "#")) and not text.endswith(","):
            return False
        i -= 1
    return False


def test_an_import_inside_a_function_says_why_it_is_lazy() -> None:
    """Only heavy or optional dependencies kept off start-up paths are imported late, each
    group with a one-line reason (``# lazy: ...``) above it."""
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for lineno, text in function_imports(path):
            if not _has_reason(lines, lineno):
                missing.append(f"{path.relative_to(ROOT)}:{lineno}: {text.strip()}")
    assert not missing, "imports inside functions without a reason:\n" + "\n".join(missing)
