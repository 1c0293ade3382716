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

#: run options a figure may take (``FigureSpec.options`` holds the ones its experiment has)
COMMON_OPTIONS = ("seed", "n_models", "n_samples", "quick", "no_cache")


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: its experiment, plot module, output files and run options.

    No formula: infrastructure. Built by :func:`figures` (not by hand); the methods import the
    experiment and plot modules on demand.

    Attributes
    ----------
    name : str
        Figure name, equal to the experiment's name (``"fig1"``, ``"theory-vs-ensemble"``, ...).
    experiment : str
        Module name in :mod:`gtv_symbolic.experiments`.
    plot_module : str
        Module name in :mod:`gtv_symbolic.plots`.
    stems : tuple of str
        Output file stems, one per figure drawn (each written as PNG and PDF).
    table_file : str or None
        File name of the Markdown table, or None for a figure without a table.
    doc : str
        One line saying what the figure shows.
    options : frozenset of str
        The keywords of :meth:`func` this figure takes (``quick``, ``no_cache`` and those of
        :data:`COMMON_OPTIONS` that its experiment's ``Settings`` has).

    Examples
    --------
    >>> spec = figures()["phase"]
    >>> spec.stems, spec.table_file, sorted(spec.options)
    (('phase',), 'phase_table.md', ['n_models', 'no_cache', 'quick', 'seed'])
    >>> spec.experiment_module().__name__, spec.plots().__name__
    ('gtv_symbolic.experiments.phase', 'gtv_symbolic.plots.phase')
    """

    name: str
    experiment: str          # module name in gtv_symbolic.experiments
    plot_module: str         # module name in gtv_symbolic.plots
    stems: tuple             # output file stems, one per figure drawn
    table_file: str | None = None
    doc: str = ""
    options: frozenset = field(default_factory=frozenset)

    def experiment_module(self):
        """The experiment module ``gtv_symbolic.experiments.<experiment>``."""
        return importlib.import_module(f"gtv_symbolic.experiments.{self.experiment}")

    def plots(self):
        """The plot module ``gtv_symbolic.plots.<plot_module>``."""
        return importlib.import_module(f"{__name__}.{self.plot_module}")

    def draw(self, result) -> dict:
        """``{stem: Figure}`` of ``result``: the plot module's ``figures`` or its ``plot``."""
        mod = self.plots()
        if hasattr(mod, "figures"):
            return mod.figures(result)
        return {self.stems[0]: mod.plot(result)}

    def func(self, out_dir, *, save_data=None, progress=None, **opts):
        """Run and render this figure: :func:`run_and_render` with ``name`` filled in."""
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
    """All registered figures, in order (the order of ``gtv reproduce``).

    No formula: infrastructure (the registry). Each call builds fresh :class:`FigureSpec`
    objects and imports the experiment modules to read their options.

    Returns
    -------
    dict of str to FigureSpec
        Figure name to its spec; names equal experiment names.

    Examples
    --------
    >>> list(figures())[:3], "theory-vs-ensemble" in figures()
    (['fig1', 'fig2', 'fig3'], True)
    >>> figures()["theory-vs-ensemble"].stems[1]
    'theory_vs_ensemble_summary'
    """
    return {name: FigureSpec(name, exp, plot, stems, table, doc, _options(exp))
            for name, exp, plot, stems, table, doc in _SPECS}


def _spec(name) -> FigureSpec:
    reg = figures()
    if name not in reg:
        raise ValueError(f"figure must be one of {list(reg)}, got {name!r}")
    return reg[name]


def render(name: str, result, out_dir) -> list[Path]:
    """Write the figure(s) (PNG + PDF) and the table of ``result`` into ``out_dir``.

    No formula: infrastructure. Draws under the package style (:func:`.style.style`), saves
    ``STEM.png`` and ``STEM.pdf`` per stem (:func:`.style.save_figure`, which closes the
    figures) and, when the figure has a table, writes ``table_file``.

    Parameters
    ----------
    name : str
        A registered figure name (a key of :func:`figures`).
    result : xarray.Dataset
        The result of that figure's experiment ``run``.
    out_dir : str or os.PathLike
        Output folder (created when missing).

    Returns
    -------
    list of pathlib.Path
        The files written, figures first, then the table.

    Raises
    ------
    ValueError
        If ``name`` is not a registered figure.

    Examples
    --------
    >>> import tempfile
    >>> from gtv_symbolic.experiments import fig1
    >>> r = fig1.run(fig1.Settings(times=(0.1,), n_grid=5, datasets=("line",)))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in render("fig1", r, tmp)]
    ['fig1.png', 'fig1.pdf']
    >>> render("fig9", r, ".")
    Traceback (most recent call last):
    ...
    ValueError: figure must be one of ['fig1', ...], got 'fig9'
    """
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
    """``PATH.npz`` with the figure's promised keys and the sidecar ``PATH.json``.

    No formula: infrastructure. The arrays are the experiment's ``npz_arrays(result)``; the
    sidecar holds ``settings``, ``seed``, ``version`` and ``git``. An experiment with
    ``npz_split`` writes one file per part (nn-vs-theory with several ``eps``: ``PATH`` for the
    first and ``PATH_eps1e-02.npz``, ... per ``eps``); theory-vs-ensemble also writes every
    other variable to ``PATH_details.npz``.

    Parameters
    ----------
    name : str
        A registered figure name (a key of :func:`figures`).
    result : xarray.Dataset
        The result of that figure's experiment ``run``.
    path : str or os.PathLike
        The ``.npz`` file; its folder is created when missing.

    Returns
    -------
    list of pathlib.Path
        The files written (``.npz`` and ``.json`` per part, then any details file).

    Raises
    ------
    ValueError
        If ``name`` is not a registered figure.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from gtv_symbolic.experiments import fig1
    >>> r = fig1.run(fig1.Settings(times=(0.1,), n_grid=5, datasets=("line",)))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = save_data("fig1", r, Path(tmp) / "fig1.npz")
    ...     [p.name for p in paths], sorted(np.load(paths[0]))
    (['fig1.npz', 'fig1.json'], ['line', 't', 'x', 'y'])
    """
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
    """Run the experiment (default or ``--quick`` settings with the given overrides) and render it.

    No formula: infrastructure (what ``gtv NAME`` and ``gtv reproduce`` call). The settings are
    ``settings`` if given, else the experiment's ``QUICK`` (``quick=True``) or default
    ``Settings()``, with ``seed``, ``n_models`` and ``n_samples`` replaced when not None; the
    result is drawn by :func:`render` and, with ``save_data``, stored by :func:`save_data`.

    Parameters
    ----------
    name : str
        A registered figure name (a key of :func:`figures`).
    out_dir : str or os.PathLike
        Folder of the figures and the table.
    save_data : str, os.PathLike or None, default None
        ``.npz`` path for the arrays; None writes none.
    progress : object or None, default None
        Progress reporter passed to the experiment's ``run``.
    seed, n_models, n_samples : int or None, default None
        Overrides of the settings' fields; only for an experiment whose ``Settings`` has
        them (:attr:`FigureSpec.options`).
    quick : bool, default False
        Start from the experiment's ``QUICK`` settings (ignored when ``settings`` is given).
    no_cache : bool, default False
        Recompute instead of reading the result cache (used when ``cache`` is None).
    cache : gtv_symbolic._runtime.cache.Cache or None, default None
        Result cache; None makes one (enabled unless ``no_cache``).
    workers : int or None, default None
        Parallel workers of the experiment.
    scheduler : object or None, default None
        Dask scheduler of the experiment.
    settings : dataclass or None, default None
        Explicit settings of the experiment (a ``Settings`` instance).

    Returns
    -------
    list of pathlib.Path
        The files written by :func:`render`, then those of :func:`save_data`.

    Raises
    ------
    ValueError
        If ``name`` is not registered or an override is not a field of the figure's settings
        (raised before anything runs); the experiment's ``validate`` raises on bad settings.

    Examples
    --------
    >>> import tempfile
    >>> from gtv_symbolic.experiments import fig1
    >>> s = fig1.Settings(times=(0.1,), n_grid=5, datasets=("line",))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in run_and_render("fig1", tmp, settings=s, no_cache=True,
    ...                                      save_data=tmp + "/R.npz")]
    ['fig1.png', 'fig1.pdf', 'R.npz', 'R.json']
    >>> run_and_render("fig1", ".", seed=1)
    Traceback (most recent call last):
    ...
    ValueError: figure fig1 takes no option(s) ['seed']
    """
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
