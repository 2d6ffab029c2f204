"""The docstrings' examples run (the package's doctests, in the fast tier), and every
public function of ``dreamvideo`` shows an example or says why it has none."""

import doctest
import importlib
import importlib.util
import inspect
import pkgutil

import pytest

import dreamvideo
from tests.conftest import ROOT

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules():
    for info in pkgutil.walk_packages(dreamvideo.__path__, "dreamvideo."):
        backend = info.name.rsplit(".", 1)[-1] if ".core.backends." in info.name else None
        if backend in ("jax", "torch") and importlib.util.find_spec(backend) is None:
            continue  # an extra that is not installed
        yield importlib.import_module(info.name)


def test_the_docstring_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples name the bundled samples and presets
    monkeypatch.delenv("DREAMVIDEO_WEIGHTS_DIR", raising=False)  # none needs the weights
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    finder = doctest.DocTestFinder()
    ran = 0
    for module in [dreamvideo, *_modules()]:
        for test in finder.find(module, module.__name__):
            result = runner.run(test, out=lambda text: None)
            assert result.failed == 0, f"{test.name}: {result.failed} of {result.attempted} examples failed"
            ran += result.attempted
    assert ran >= 10


@pytest.mark.parametrize("name", dreamvideo.__all__)
def test_every_public_name_has_a_docstring_and_functions_an_example(name):
    value = getattr(dreamvideo, name)
    doc = inspect.getdoc(value)
    assert doc, name
    if inspect.isfunction(value):
        assert ">>>" in doc or "No example:" in doc, f"{name}: an example, or say why it has none"

