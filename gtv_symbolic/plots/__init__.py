"""Figure registry: figure name -> experiment, plotting functions, table and ``.npz`` keys.

Plot modules only plot: ``plot(result) -> Figure`` (and ``table(result) -> str``) draw a
result of ``gtv_symbolic.experiments.<name>.run``. Figure names equal experiment names.

* :func:`render` ``(name, result, out_dir) -> [paths]``: PNG + PDF of every figure, and
  ``NAME_table.md`` when the figure has a table;
* :func:`save_data` ``(name, result, path) -> [paths]``: ``PATH.npz`` with the promised keys
  plus the JSON sidecar ``PATH.json`` (keys ``settings``, ``seed``, ``version``, ``git``);
  theory-vs-ensemble also writes every other variable to ``PATH_details.npz``;
* :func:`figures` ``() -> {name: FigureSpec}``; ``FigureSpec.func(out_dir, *, save_data,
  progress, seed, n_models, n_samples, quick, no_cache)`` runs and renders in one call
  (``options`` lists the keywords it takes).
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FigureSpec", "figures", "render", "save_data", "run_and_render", "COMMON_OPTIONS"]

COMMON_OPTIONS = ("seed", "n_models", "n_samples", "quick", "no_cache")


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure (see the module docstring)."""

    name: str
    experiment: str          # module name in gtv_symbolic.experiments
    plot_module: str         # module name in gtv_symbolic.plots
    stems: tuple             # output file stems, one per figure drawn
    table_file: str | None = None
    doc: str = ""
    options: frozenset = field(default_factory=frozenset)

    def experiment_module(self):
        return importlib.import_module(f"gtv_symbolic.experiments.{self.experiment}")

    def plots(self):
        return importlib.import_module(f"{__name__}.{self.plot_module}")

    def draw(self, result) -> dict:
        mod = self.plots()
        if hasattr(mod, "figures"):
            return mod.figures(result)
        return {self.stems[0]: mod.plot(result)}

    def func(self, out_dir, *, save_data=None, progress=None, **opts):
        return run_and_render(self.name, out_dir, save_data=save_data, progress=progress, **opts)


_SPECS = (
    ("fig1", "fig1", "fig1", ("fig1",), None,
     "Proxy-score variance ratio R = tr C / (tr C + |s|^2), 4 data sets x 5 times."),
    ("fig2", "fig2", "fig2", ("fig2",), None,
     "Fig. 2: linear-model ensembles on 1-D data, eps x F/P grid (paper Fig. 2)."),
    ("fig3", "fig3", "fig3", ("fig3",), None,
     "Fig. 3: 2-D square data, feature families x rotations (paper Fig. 3)."),
    ("theory-vs-ensemble", "theory", "theory",
     ("theory_vs_ensemble", "theory_vs_ensemble_summary", "theory_vs_ensemble_2d"),
     "theory_vs_ensemble_table.md",
     "Typical learned distribution: trained ensembles vs the V-kernel (path-integral) prediction."),
    ("ablation", "ablation", "ablation", ("ablation",), "ablation_table.md",
     "Causal ablation: J0 vs J1 targets (V collapses) and the naive estimator vs kappa."),
    ("phase", "phase", "phase", ("phase",), "phase_table.md",
     "Generalization measure (TV to the exact-score PF-ODE, gap mass) over eps x F/P."),
    ("nn-vs-theory", "nn_vs_theory", "nn_vs_theory", ("nn_vs_theory",), "nn_vs_theory_table.md",
     "Trained MLP ensembles (NTK / mean-field) vs the lazy NTK-at-init prediction."),
    ("target-variance", "target_variance", "target_variance", ("target_variance",),
     "target_variance_table.md", "Targets averaged over M posterior draws: V_C / M, gap and mode masses."),
    ("dimension", "dimension", "dimension", ("dimension",), "dimension_table.md",
     "Point-mass data in D dimensions: R > 1/2 mass, posterior collapse time, naive V-kernel."),
)


def _options(experiment: str) -> frozenset:
    mod = importlib.import_module(f"gtv_symbolic.experiments.{experiment}")
    names = {f.name for f in dataclasses.fields(mod.Settings)}
    return frozenset({"quick", "no_cache"} | ({"seed", "n_models", "n_samples"} & names))


def figures() -> dict[str, FigureSpec]:
    """All registered figures, in order."""
    return {name: FigureSpec(name, exp, plot, stems, table, doc, _options(exp))
            for name, exp, plot, stems, table, doc in _SPECS}


def _spec(name) -> FigureSpec:
    reg = figures()
    if name not in reg:
        raise ValueError(f"figure must be one of {list(reg)}, got {name!r}")
    return reg[name]


def render(name: str, result, out_dir) -> list[Path]:
    """Write the figure(s) (PNG + PDF) and the table of ``result`` into ``out_dir``."""
    from .style import save_figure, style

    spec = _spec(name)
    paths = []
    with style():
        for stem, fig in spec.draw(result).items():
            paths += save_figure(fig, out_dir, stem)
    if spec.table_file is not None:
        p = Path(out_dir) / spec.table_file
        p.write_text(spec.plots().table(result))
        paths.append(p)
    return paths


def save_data(name: str, result, path) -> list[Path]:
    """``PATH.npz`` with the figure's promised keys and the sidecar ``PATH.json``."""
    import numpy as np

    from ..experiments._common import save_npz

    spec = _spec(name)
    mod = spec.experiment_module()
    arrays = mod.npz_arrays(result)
    p = Path(path)
    paths = []
    # an experiment with npz_split writes one file per part (nn-vs-theory: one per eps)
    for suffix, part in getattr(mod, "npz_split", lambda r: [("", r)])(result):
        paths += save_npz(p.with_name(p.stem + suffix + p.suffix), mod.npz_arrays(part), part)
    if name == "theory-vs-ensemble":
        extra = p.with_name(p.stem + "_details.npz")
        np.savez(extra, **{k: result[k].values for k in result.data_vars if k not in arrays})
        paths.append(extra)
    return paths


_write_data = save_data


def run_and_render(name: str, out_dir, *, save_data=None, progress=None, seed=None,
                   n_models=None, n_samples=None, quick=False, no_cache=False, cache=None,
                   workers=None, scheduler=None, settings=None) -> list[Path]:
    """Run the experiment (default or ``--quick`` settings with the given overrides) and
    render it; the arrays go to ``save_data`` when given."""
    from .._runtime.cache import Cache
    from ..experiments._common import replace_settings

    spec = _spec(name)
    mod = spec.experiment_module()
    s = settings if settings is not None else (mod.QUICK if quick else mod.Settings())
    over = {k: v for k, v in (("seed", seed), ("n_models", n_models), ("n_samples", n_samples))
            if v is not None}
    unknown = set(over) - {f.name for f in dataclasses.fields(s)}
    if unknown:
        raise ValueError(f"figure {name} takes no option(s) {sorted(unknown)}")
    s = replace_settings(s, **over)
    if cache is None:
        cache = Cache(enabled=not no_cache)
    result = mod.run(s, None, progress=progress, cache=cache, scheduler=scheduler,
                     workers=workers)
    paths = render(name, result, out_dir)
    if save_data is not None:
        paths += _write_data(name, result, save_data)
    return paths
