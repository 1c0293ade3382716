"""The docstring examples of the experiments and plots modules run as doctests."""

import doctest
import importlib

import pytest

SLOW = pytest.mark.slow  # these examples train ensembles; tests/test_experiments_tve.py covers them
MODULES = ["experiments._common", "experiments.stats", "experiments.fig1", "experiments.fig2",
           "experiments.fig3", "experiments.one_call", "plots.fig2", "plots.theory",
           pytest.param("experiments.theory", marks=SLOW),
           pytest.param("experiments.ablation", marks=SLOW),
           pytest.param("experiments.phase", marks=SLOW)]


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"gtv_symbolic.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0, res
