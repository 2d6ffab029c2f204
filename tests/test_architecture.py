"""The house plan holds: layers import downwards only, no import circle anywhere, small
modules that say what they are."""

import ast
import re
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


def _functions(tree: ast.AST):
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_functions_are_short_and_loops_honest():
    """No function over 60 lines; no ``for _ in "x"`` standing for "once"."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _functions(tree):
            assert node.end_lineno - node.lineno < 60, f"{path}:{node.lineno} {node.name} is over 60 lines"
        for node in ast.walk(tree):
            if isinstance(node, ast.For | ast.comprehension):
                once = isinstance(node.iter, ast.Constant) and isinstance(node.iter.value, str)
                ignored = isinstance(node.target, ast.Name) and node.target.id == "_"
                assert not (once and ignored), f"{path}: a loop over a string literal for its one pass"


def test_every_render_takes_the_pipeline_whole():
    """``render_still``, ``render_gallery``, ``render_video``, ``render_zoom`` (and the
    spread video): ``(pipeline, run)``, nothing split into sections."""
    import inspect

    from dreamvideo.render import gallery, scaled, stills, video, zoom

    for function in (stills.render_still, gallery.render_gallery, video.render_video, zoom.render_zoom,
                     scaled.render_scaled):
        assert list(inspect.signature(function).parameters) == ["pipeline", "run"], function.__name__


def test_tests_mirror_the_package():
    """Each module with logic has its test module at the mirrored path, or its docstring
    names the test modules that cover it, and they exist."""
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        if path.name == "__init__.py" or not _functions(tree):
            continue
        relative = path.relative_to(PACKAGE)
        mirrored = ROOT / "tests" / relative.parent / f"test_{relative.name}"
        notes = re.findall(r"\(Tests: ([^)]*)\.\)", ast.get_docstring(tree) or "")
        named = [ROOT / name.strip() for note in notes for name in note.split(",")]
        assert mirrored.is_file() or (named and all(p.is_file() for p in named)), \
            f"{relative}: no {mirrored.relative_to(ROOT)}, and its docstring names no tests that exist"
