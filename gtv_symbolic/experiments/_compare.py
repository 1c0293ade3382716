r"""Trained ensemble vs Gaussian-field prediction on one setting: the shared core.

Used by :func:`gtv_symbolic.experiments.theory_vs_ensemble` (one call, any 1-D or 2-D
point-mass data) and by the ``theory-vs-ensemble`` experiment (the Fig. 2 ensembles).

* :func:`kernel` -- the V-kernel law ``W ~ N(W*, Cov_W)`` (Prop. 3.1 with the
  linear-model kernel, :func:`gtv_symbolic.kernels.linear_kernel`); in 2-D the training
  expectation uses QMC nodes and ``W*`` the exact population solution.
* :func:`model_masses` -- each model's learned distribution as bin masses (1-D: sample-free
  transport; 2-D: ``n_samples`` Euler PF-ODE samples per model), computed in cached,
  seeded chunks (the results do not depend on the worker count).
* :func:`gaussian_fields` -- as many Gaussian fields as needed for their Monte Carlo error to
  be at most ``MC_RATIO`` = 1/3 of the ensemble's (the ratio is returned).
* :func:`summary` -- TV, gap and mode masses with standard errors (:mod:`.stats`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..denoisers import ExactDenoiser, LinearDenoiser
from ..grids import TimeGrid
from ..metrics import histogram_masses
from ..solvers import pushforward_1d, sample_pf_ode
from ..solvers.euler2d import euler_histograms_2d
from ..training import population_weights
from . import stats
from ._common import child, make_schedule
from ._tasks import cached_map

__all__ = ["TRANSPORT", "MC_RATIO", "N_QMC_2D", "kernel", "model_masses", "exact_masses",
           "p_eps_masses", "start_1d", "references", "gaussian_fields", "summary", "mc_ratio", "field_regions",
           "SUMMARY_KEYS", "summary_arrays", "store_summary"]

#: sample-free transport settings (the same as Fig. 2)
TRANSPORT = {"n_nodes": 256, "tol": 0.3, "half_width": 6.0, "max_rounds": 40, "min_mass": 1e-6}
#: Gaussian-field Monte Carlo error / ensemble error must not exceed this
MC_RATIO = 1 / 3
#: QMC nodes of the 2-D training expectation
N_QMC_2D = 65536
#: models per cached task
CHUNK = 25
#: most fields drawn per ensemble member (cap of the top-up)
MAX_FIELD_FACTOR = 50


def kernel(fm, data, sched, *, eps, T, ridge, target, seed_seq, cache=None):
    """The V-kernel at ``P = 1`` (rescale with ``.with_P(P)``), cached by its parameters."""
    D = data.shape[1]
    params = {"features": fm.cache_key(), "data": data, "schedule": sched.cache_key(),
              "eps": eps, "T": T, "ridge": ridge, "target": target, "version": 2,
              "seed": [int(v) for v in seed_seq.generate_state(4)] if D > 1 else None}

    def compute():
        nodes = None
        if D > 1:
            nodes = kernels.training_nodes(data, sched, eps, T, method="qmc", n_mc=N_QMC_2D,
                                           rng=np.random.default_rng(seed_seq))
        K = kernels.linear_kernel(fm, data, sched, P=1, eps=eps, T=T, ridge=ridge,
                                  target=target, nodes=nodes)
        W_star = K.W_star if D == 1 else population_weights(fm, data, sched, eps=eps, T=T,
                                                              ridge=ridge)
        return {"W_star": W_star, "cov_W": K.cov_W, "eig": K.eig, "G": K.G,
                "C_term": K.parts["C_term"]}

    from ._tasks import get_cache

    d = get_cache(cache).get_or_compute("theory-kernel", params, compute)
    return kernels.LinearKernel(features=fm, schedule=sched, P=1, W_star=d["W_star"],
                                cov_W=d["cov_W"], eig=d["eig"], filt=kernels.ridge_filter(ridge),
                                target=target, G=d["G"], parts={"C_term": d["C_term"]})


def _masses_task(fm, W, sched, edges, eps, T, n_steps, n_samples, seed_seq):
    den = LinearDenoiser(fm, W)
    grid = TimeGrid.linear(sched, eps, T, n_steps)
    if len(edges) == 1:
        m = pushforward_1d(den, grid, edges[0], **TRANSPORT)
    else:
        m = euler_histograms_2d(den, grid, tuple(edges), n_samples=n_samples,
                                rng=np.random.default_rng(seed_seq))
    return {"m": m.reshape(m.shape[0], -1)}


def model_masses(fm, W, sched, edges, *, eps, T, n_steps, n_samples, seed_seq, cache=None,
                 workers=None, scheduler=None, progress=None, label="models") -> np.ndarray:
    """Bin masses ``(N, bins)`` of the learned distributions of the models ``W (N, D, F)``.

    ``edges`` is a list of one (1-D) or two (2-D) edge arrays; ``seed_seq`` seeds the 2-D
    samples (chunk ``k`` uses ``seed_seq.spawn`` child ``k``).
    """
    W = np.asarray(W, dtype=float)
    chunks = list(range(0, W.shape[0], CHUNK))
    seeds = [child(seed_seq, k) for k in range(len(chunks))]
    tasks, labels = [], []
    for k, c in enumerate(chunks):
        Wc = W[c:c + CHUNK]
        params = {"features": fm.cache_key(), "W": Wc, "schedule": sched.cache_key(),
                  "edges": list(edges), "eps": eps, "T": T, "n_steps": n_steps,
                  "n_samples": n_samples if len(edges) > 1 else None,
                  "transport": TRANSPORT if len(edges) == 1 else None,
                  "seed": [int(v) for v in seeds[k].generate_state(4)]}
        tasks.append((params, (_masses_task, (fm, Wc, sched, list(edges), eps, T, n_steps,
                                              n_samples, seeds[k]))))
        labels.append(f"{label} {c}-{c + Wc.shape[0] - 1}")
    res = cached_map(cache, "theory-masses", tasks, workers=workers, scheduler=scheduler,
                     progress=progress, labels=labels)
    return np.concatenate([r["m"] for r in res])


def exact_masses(data, sched, edges, *, eps, T, n_steps, n_samples, seed_seq):
    """Bin masses of the exact-score PF-ODE on the same time grid (2-D: ``n_samples`` samples)."""
    den = ExactDenoiser(data, sched)
    grid = TimeGrid.linear(sched, eps, T, n_steps)
    if len(edges) == 1:
        return pushforward_1d(den, grid, edges[0], **TRANSPORT).reshape(-1)
    s = sample_pf_ode(den, grid, n_samples=n_samples, rng=np.random.default_rng(seed_seq))
    return histogram_masses(s, tuple(edges)).reshape(-1)


def p_eps_masses(data, sched, edges, eps):
    r"""Exact bin masses of ``p(x | eps) = (1/M) sum_m N(x; alpha mu_m, sigma^2 I)``.

    Per axis the Gaussian CDF differences :math:`\Phi((e_{b+1}-\alpha\mu)/\sigma) -
    \Phi((e_b-\alpha\mu)/\sigma)`; in 2-D their product per point, averaged over points.
    """
    from scipy.special import ndtr

    a, sd = float(sched.alpha(eps)), float(np.sqrt(sched.sigma2(eps)))
    per_axis = [np.diff(ndtr((e[:, None] - a * data[None, :, d]) / sd), axis=0)
                for d, e in enumerate(edges)]  # (bins_d, M)
    if len(edges) == 1:
        return per_axis[0].mean(1)
    return np.einsum("im,jm->ij", per_axis[0], per_axis[1]).reshape(-1) / data.shape[0]


def start_1d(name, s, validate, rng, progress, cache):
    """The opening of a 1-D comparison run: ``(data, seed, progress, cache, schedule, x,
    edges)`` (validated settings ``s`` with Fig. 2's bin fields)."""
    from . import fig2
    from ._common import resolve_seed
    from ._tasks import get_cache, quiet_progress

    data = validate(s)
    x, edges = fig2.bin_grid(s)
    return (data, resolve_seed(s, rng), quiet_progress(progress, name), get_cache(cache),
            make_schedule(s.schedule, s.T), x, edges)


def references(data, sched, edges, *, eps, T, n_steps):
    """1-D reference laws on ``edges`` (normalised bin masses): the exact-score PF-ODE on the
    sampler's time grid and ``p(x | eps)``; with the gap mask and the mode cells."""
    x = 0.5 * (edges[1:] + edges[:-1])
    pf = stats.normalise(exact_masses(data, sched, [edges], eps=eps, T=T, n_steps=n_steps,
                                      n_samples=None, seed_seq=None))
    p_eps = stats.normalise(p_eps_masses(data, sched, [edges], eps))
    return pf, p_eps, stats.gap_region(data, x), stats.mode_cells(data, x)


#: :func:`summary` keys stored per cell by :func:`store_summary` (``gaussian_field`` renamed)
SUMMARY_KEYS = ("tv", "tv_se", "tv_ensemble_pf_ode", "tv_ensemble_pf_ode_se",
                "gap_mass_ensemble", "gap_mass_ensemble_se", "gap_mass_gaussian_field",
                "gap_mass_gaussian_field_se", "gap_mass_diff", "gap_mass_diff_se")
_MODE_KEYS = ("mode_mass_ensemble", "mode_mass_ensemble_se", "mode_mass_gaussian_field",
              "mode_mass_gaussian_field_se", "mode_mass_diff", "mode_mass_diff_se")


def summary_arrays(shape, n_modes: int, name: str) -> dict:
    """Zero arrays for :func:`store_summary`: ``shape`` per scalar, ``shape + (n_modes,)``
    per mode mass; ``gaussian_field`` in the keys becomes ``name``."""
    out = {k.replace("gaussian_field", name): np.zeros(shape) for k in SUMMARY_KEYS}
    out.update({k.replace("gaussian_field", name): np.zeros(tuple(shape) + (n_modes,))
                for k in _MODE_KEYS})
    return out


def store_summary(out: dict, index, sm: dict, name: str) -> None:
    """Copy a :func:`summary` ``sm`` into the arrays of :func:`summary_arrays` at ``index``."""
    for k in SUMMARY_KEYS + _MODE_KEYS:
        out[k.replace("gaussian_field", name)][index] = sm[k]


def field_regions(data, edges) -> list[np.ndarray]:
    """Gap mask and mode cells on the bins of ``edges`` (the regions of the field-count rule)."""
    x = 0.5 * (edges[1:] + edges[:-1])
    cells = stats.mode_cells(data, x)
    return [stats.gap_region(data, x)] + [cells == k for k in range(data.shape[0])]


def mc_ratio(ens, gf, regions) -> float:
    """max over regions of ``se(gf mass) / se(ensemble mass)`` (regions with se_ens > 0)."""
    r = 0.0
    for mask in regions:
        _, se_e = stats.mean_se(stats.region_mass(ens, mask))
        _, se_g = stats.mean_se(stats.region_mass(gf, mask))
        if se_e > 0:
            r = max(r, float(se_g / se_e))
    return r


def gaussian_fields(draw, n_first, masses_of, ens, regions, *, target=MC_RATIO):
    """Draw fields until their Monte Carlo error is at most ``target`` times the ensemble's.

    ``draw(n, k)`` returns ``n`` weight draws from stream ``k``; ``masses_of(W, k)`` their bin
    masses. One top-up to ``ceil(n (ratio / target)^2)`` fields when the first batch falls
    short (capped at ``MAX_FIELD_FACTOR`` per model). Returns ``(masses, ratio)``.
    """
    gf = masses_of(draw(n_first, 0), 0)
    ratio = mc_ratio(ens, gf, regions)
    if ratio > target:
        n_total = min(math.ceil(n_first * (ratio / target) ** 2 * 1.1),
                      MAX_FIELD_FACTOR * ens.shape[0])
        if n_total > n_first:
            gf = np.concatenate([gf, masses_of(draw(n_total - n_first, 1), 1)])
            ratio = mc_ratio(ens, gf, regions)
    return gf, ratio


def summary(ens, gf, pf, p_eps, gap_mask, cells, *, n_boot, rng) -> dict:
    """Scalars with standard errors (names as in :func:`theory_vs_ensemble`).

    ``ens (N, bins)``, ``gf (M, bins)`` per-model masses; ``pf``, ``p_eps`` fixed masses;
    ``cells`` the Voronoi label of every bin (mode masses).
    """
    out = {}
    r_tv, r_pe, r_pg = rng.spawn(3)
    out["tv"], out["tv_se"] = stats.bootstrap_tv(ens, gf, n_boot=n_boot, rng=r_tv)
    out["tv_ensemble_pf_ode"], out["tv_ensemble_pf_ode_se"] = stats.bootstrap_tv(
        ens, pf, n_boot=n_boot, rng=r_pe)
    out["tv_gaussian_field_pf_ode"], out["tv_gaussian_field_pf_ode_se"] = stats.bootstrap_tv(
        gf, pf, n_boot=n_boot, rng=r_pg)
    out["tv_pf_ode_p_eps"] = stats.tv(pf, p_eps)
    for name, m in (("ensemble", ens), ("gaussian_field", gf)):
        g, se = stats.mean_se(stats.region_mass(m, gap_mask))
        out[f"gap_mass_{name}"], out[f"gap_mass_{name}_se"] = float(g), float(se)
    out["gap_mass_diff"] = out["gap_mass_ensemble"] - out["gap_mass_gaussian_field"]
    out["gap_mass_diff_se"] = float(stats.diff_se(out["gap_mass_ensemble_se"],
                                                  out["gap_mass_gaussian_field_se"]))
    out["gap_mass_pf_ode"] = float(stats.region_mass(pf, gap_mask))
    out["gap_mass_p_eps"] = float(stats.region_mass(p_eps, gap_mask))
    n_modes = int(cells.max()) + 1
    masks = [cells.reshape(-1) == k for k in range(n_modes)]
    for name, m in (("ensemble", ens), ("gaussian_field", gf)):
        vals = np.stack([stats.region_mass(m, k) for k in masks], axis=-1)
        out[f"mode_mass_{name}"], out[f"mode_mass_{name}_se"] = stats.mean_se(vals)
    out["mode_mass_diff"] = out["mode_mass_ensemble"] - out["mode_mass_gaussian_field"]
    out["mode_mass_diff_se"] = stats.diff_se(out["mode_mass_ensemble_se"],
                                             out["mode_mass_gaussian_field_se"])
    out["mode_mass_pf_ode"] = np.array([stats.region_mass(pf, k) for k in masks])
    return out
