"""The house plan holds: layers import downwards only, no import circle anywhere, small
modules that say what they are."""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import ROOT

PACKAGE = ROOT / "dreamvideo"


def test_layer_contract_is_kept():
    """cli > api > render > temporal | media > core > config > errors (pyproject.toml)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


def test_no_import_circle_anywhere():
    """No module reaches itself through its imports, function-level imports included."""
    graph = grimp.build_graph("dreamvideo", exclude_type_checking_imports=True)
    circles = [(module, imported, graph.find_shortest_chain(importer=imported, imported=module))
               for module in sorted(graph.modules)
               for imported in sorted(graph.find_modules_directly_imported_by(module))
               if graph.find_shortest_chain(importer=imported, imported=module)]
    assert circles == []


def test_modules_are_small_and_say_what_they_are():
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= 300, f"{path} is over 300 lines"
        doc = ast.get_docstring(ast.parse(source))
        assert doc and len(doc.splitlines()[0]) > 20, f"{path}: the first docstring line says its concept"
