r"""Theory vs trained ensembles: ``theory-vs-ensemble``, ``ablation``, ``phase`` (issue 5).

* ``theory-vs-ensemble``: on the Figure 2 setting (data {-1,0,1}, VP, Gaussian 16 x 16
  features, ridge 0.1, every eps x P) the trained-ensemble average ``[q]`` (the Fig. 2 red
  curve, same ensembles and cache as :mod:`gtv_symbolic.plots.fig2`) is compared with

  - the Gaussian-field prediction of Prop. 3.1 / Eq. (8) with the linear-model V-kernel
    (``W ~ N(W*, Cov_W)``, :func:`gtv_symbolic.kernels.linear_kernel`), pushed through the
    same 30-step Euler sampler and sample-free transport;
  - a moment-matched Gaussian (empirical mean and covariance of the trained W): separates the
    Gaussian truncation from the leading-order 1/P covariance;
  - the small-noise (semiclassical) approximation, the exact-score PF-ODE and ``p(x|eps)``;

  with total variation, gap mass ``P(0.25<|x|<0.75)``, mode masses, the error of the
  predicted variance, and skewness / excess kurtosis of the learned denoiser across the
  ensemble; plus one 2-D setting (square data, crossed Gaussian 6 x 6 x 6 features).
* ``ablation``: J0 (true-score) vs J1 (proxy) targets for the same linear models, and the
  naive estimator (Prop. 4.1) vs kappa by Fokker-Planck (checked by Euler-Maruyama).
* ``phase``: a generalization measure (TV to the exact-score PF-ODE output, and the gap
  mass) over eps x F/P, for trained ensembles and for the Gaussian-field prediction.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import data as data_mod
from .. import kernels, metrics, typical
from ..cache import Cache
from ..denoisers import ExactDenoiser, LinearDenoiser
from ..features import make_features
from ..grids import TimeGrid
from ..metrics import histogram_masses
from ..progress import Progress
from ..schedules import VP
from ..solvers import pushforward_1d, sample_pf_ode
from ..training import population_weights, train_ensemble
from . import fig2 as fig2_mod
from . import register
from .style import save_arrays, save_figure, style

EPS = (1e-2, 1e-3, 1e-4)
P_LIST = (1024, 512, 256, 128, 64)
N_X = N_T = 16
RIDGE = 0.1
N_STEPS = 30
T_END = 1.0
N_MODELS = 100
QUICK_MODELS = 20
DEFAULT_SEED = 0
X_NG = np.linspace(-1.5, 1.5, 61)  # grid of the non-Gaussianity / variance diagnostics
T_NG = (None, 0.03, 0.1, 0.3, 0.7)  # None -> eps
TRANSPORT = fig2_mod.TRANSPORT
KERNEL_VERSION = 1

# 2-D setting
EPS_2D = 1e-2
N_2D = 6
P_2D = (864, 216, 54)  # F/P = 1/4, 1, 4 with F = 216
EDGES_2D = np.linspace(-1.5, 1.5, 61)
N_QMC_2D = 65536
SAMPLES_2D = 4000  # PF-ODE samples per model (2-D)


def _rng(seed, *tags):
    return np.random.default_rng(np.random.SeedSequence([int(seed), 5, *[int(t) for t in tags]]))


def _eps_code(eps):
    return int(round(-np.log10(eps) * 1000))


def _t_ng(eps):
    return np.array([eps if t is None else t for t in T_NG])


def _density(masses, edges):
    tot = masses.sum(axis=-1, keepdims=True)
    return masses / (tot * (edges[1] - edges[0]))


def _kernel_from_arrays(d, fm, vp, P, target="proxy", ridge=RIDGE):
    K = kernels.LinearKernel(features=fm, schedule=vp, P=1, W_star=d["W_star"], cov_W=d["cov_W"],
                             eig=d["eig"], filt=kernels.ridge_filter(ridge), target=target,
                             G=d["G"], parts={"C_term": d["C_term"]})
    return K.with_P(P)


def _kernel_arrays(fm, pts, vp, eps, target="proxy", nodes=None):
    K = kernels.linear_kernel(fm, pts, vp, P=1, eps=eps, T=T_END, ridge=RIDGE, target=target,
                              nodes=nodes)
    return {"W_star": K.W_star, "cov_W": K.cov_W, "eig": K.eig, "G": K.G,
            "C_term": K.parts["C_term"]}


def _linear_kernel_cached(cache, fm, pts, vp, eps, target, prog):
    params = {"schedule": vp.cache_key(), "data": pts, "features": fm.cache_key(), "eps": eps,
              "T": T_END, "ridge": RIDGE, "target": target, "version": KERNEL_VERSION}
    with prog.stage(f"V-kernel eps={eps:g} target={target}"):
        return cache.get_or_compute("theory-kernel", params,
                                    lambda: _kernel_arrays(fm, pts, vp, eps, target), prog)


def _mean_model_density(cache, fm, pts, vp, eps, kd, edges, prog):
    """Learned density of the single mean model ``W*`` (no variance): the bias-only baseline."""
    params = {"schedule": vp.cache_key(), "data": pts, "features": fm.cache_key(), "eps": eps,
              "ridge": RIDGE, "n_steps": N_STEPS, "transport": TRANSPORT, "edges": edges,
              "version": KERNEL_VERSION}
    r = cache.get_or_compute(
        "theory-mean-model", params,
        lambda: {"m": pushforward_1d(LinearDenoiser(fm, kd["W_star"]),
                                     TimeGrid.linear(vp, eps, T_END, N_STEPS), edges,
                                     **TRANSPORT)}, prog)
    return _density(r["m"], edges)


def _values_on_grid(W, fm, eps):
    tt = _t_ng(eps)
    X, Tt = np.meshgrid(X_NG, tt, indexing="ij")
    phi = fm(X.reshape(-1, 1), Tt.reshape(-1))
    vals = np.einsum("ndf,pf->np", W, phi)
    return vals.reshape(W.shape[0], X_NG.size, tt.size), phi


# ========================================================================================
# theory-vs-ensemble
# ========================================================================================
def compute_theory_vs_ensemble(*, seed=DEFAULT_SEED, n_models=None, quick=False, no_cache=False,
                               progress=None, cache_dir=None, eps_list=EPS, P_list=P_LIST,
                               with_2d=True) -> dict:
    """All arrays behind ``theory-vs-ensemble`` (see module docstring)."""
    prog = progress or Progress("theory-vs-ensemble", enabled=False)
    n_models = int(n_models) if n_models is not None else (QUICK_MODELS if quick else N_MODELS)
    if n_models < 4:
        raise ValueError(f"n_models must be >= 4 (skewness/kurtosis), got {n_models}")
    seed = DEFAULT_SEED if seed is None else int(seed)
    vp = VP()
    pts = data_mod.three_points()
    x, edges = fig2_mod.grid()
    cache = Cache(cache_dir, enabled=not no_cache)
    # trained ensembles: exactly Figure 2's (same seeds, same cache)
    f2 = fig2_mod.compute(seed=seed, n_models=n_models, no_cache=no_cache, progress=prog,
                          cache_dir=cache_dir, eps_list=eps_list, P_list=P_list)
    nE, nP = len(eps_list), len(P_list)
    keys_1d = ("gaussian_field", "moment_matched", "semiclassical", "gf_half_a", "gf_half_b")
    out = {k: np.zeros((nE, nP, x.size)) for k in keys_1d}
    out["ensemble"] = f2["avg"]
    out["true"], out["pfode"] = f2["true"], f2["pfode"]
    nt = len(T_NG)
    for k in ("skew", "kurt", "var_emp", "var_pred"):
        out[k] = np.zeros((nE, nP, X_NG.size, nt))
    out["trainvar_emp"] = np.zeros((nE, nP))
    out["trainvar_pred"] = np.zeros((nE, nP))
    out["F_eff"] = np.zeros(nE)
    out["mean_model"] = np.zeros((nE, x.size))
    for i, eps in enumerate(eps_list):
        fm = make_features("gaussian", 1, N_X, N_T, eps, T=T_END, x_range=(-1.5, 1.5))
        kd = _linear_kernel_cached(cache, fm, pts, vp, eps, "proxy", prog)
        out["mean_model"][i] = _mean_model_density(cache, fm, pts, vp, eps, kd, edges, prog)
        for j, P in enumerate(P_list):
            t0 = time.perf_counter()
            K = _kernel_from_arrays(kd, fm, vp, int(P))
            out["F_eff"][i] = K.F_eff

            def panel(eps=eps, P=P, fm=fm, K=K):
                # the Fig. 2 ensemble (same seed derivation as plots.fig2)
                rng = np.random.default_rng(fig2_mod._seed_for(seed, eps, P))
                W = train_ensemble(fm, pts, vp, P=int(P), n_models=n_models, eps=eps,
                                   T=T_END, ridge=RIDGE, rng=rng.spawn(2)[0])
                r_gf, r_mm = _rng(seed, 1, _eps_code(eps), P).spawn(2)
                push = dict(TRANSPORT)
                grid = TimeGrid.linear(vp, eps, T_END, N_STEPS)
                Wg = typical.gaussian_field_weights(K, n_models, r_gf)
                mg = pushforward_1d(LinearDenoiser(fm, Wg), grid, edges, **push)
                Wm = typical.moment_matched_weights(W, n_models, r_mm)
                mm = pushforward_1d(LinearDenoiser(fm, Wm), grid, edges, **push)
                sc, _ = typical.semiclassical_linear(K, grid, x)
                vals, phi = _values_on_grid(W, fm, eps)
                mom = metrics.ensemble_moments(vals)
                vpred = np.einsum("pf,fg,pg->p", phi, K.cov_W[0, :, 0, :], phi)
                dW = (W - W.mean(0))[:, 0, :]
                cov_emp = dW.T @ dW / (W.shape[0] - 1)
                h = n_models // 2
                return {"gf": mg, "mm": mm, "sc": sc, "skew": mom["skew"], "kurt": mom["kurt"],
                        "var_emp": mom["var"], "var_pred": vpred.reshape(mom["var"].shape),
                        "trainvar_emp": np.array(np.trace(K.G @ cov_emp)),
                        "gf_a": mg[:h].mean(0), "gf_b": mg[h:].mean(0)}

            params = {"schedule": vp.cache_key(), "data": pts, "features": fm.cache_key(),
                      "eps": eps, "P": int(P), "seed": seed, "n_models": n_models,
                      "ridge": RIDGE, "n_steps": N_STEPS, "transport": TRANSPORT,
                      "edges": edges, "x_ng": X_NG, "t_ng": _t_ng(eps), "version": KERNEL_VERSION}
            r = cache.get_or_compute("theory-panel", params, panel, prog)
            out["gaussian_field"][i, j] = _density(r["gf"], edges).mean(0)
            out["moment_matched"][i, j] = _density(r["mm"], edges).mean(0)
            sc = r["sc"]
            out["semiclassical"][i, j] = sc / (sc.sum() * (x[1] - x[0]))
            out["gf_half_a"][i, j] = _density(r["gf_a"], edges)
            out["gf_half_b"][i, j] = _density(r["gf_b"], edges)
            for k in ("skew", "kurt", "var_emp", "var_pred"):
                out[k][i, j] = r[k]
            out["trainvar_emp"][i, j] = float(r["trainvar_emp"])
            out["trainvar_pred"][i, j] = K.training_variance()
            prog.log(f"theory panel eps={eps:g} P={P} (F/P={N_X * N_T / P:g}) "
                     f"{time.perf_counter() - t0:.1f} s")
    out.update(_summaries_1d(out, x))
    out["x"] = x
    out["eps"] = np.asarray(eps_list, float)
    out["P"] = np.asarray(P_list, int)
    out["t_ng"] = np.array([_t_ng(e) for e in eps_list])
    out["x_ng"] = X_NG
    if with_2d:
        out.update(compute_2d(seed=seed, n_models=n_models, quick=quick, cache=cache, prog=prog))
    return out


def _summaries_1d(d, x):
    tv = metrics.total_variation
    ens, gf, mm, sc = d["ensemble"], d["gaussian_field"], d["moment_matched"], d["semiclassical"]
    pf = d["pfode"][:, None, :]
    tr = d["true"][:, None, :]
    s = {
        "tv": tv(ens, gf, x),
        "tv_ens_mm": tv(ens, mm, x),
        "tv_gf_mm": tv(gf, mm, x),
        "tv_ens_sc": tv(ens, sc, x),
        "tv_ens_pfode": tv(ens, np.broadcast_to(pf, ens.shape), x),
        "tv_gf_pfode": tv(gf, np.broadcast_to(pf, ens.shape), x),
        "tv_ens_true": tv(ens, np.broadcast_to(tr, ens.shape), x),
        "tv_gf_true": tv(gf, np.broadcast_to(tr, ens.shape), x),
        "tv_pfode_true": tv(d["pfode"], d["true"], x),
        # finite-N floor: TV between two independent half-ensembles, scaled to N vs N
        "tv_floor": tv(d["gf_half_a"], d["gf_half_b"], x) / np.sqrt(2),
    }
    # the same distances at a coarser resolution (20 bins of width 0.15): less finite-N noise
    xc = x.reshape(-1, 10).mean(-1)

    def coarse(a):
        return a.reshape(a.shape[:-1] + (-1, 10)).mean(-1)

    s["tv_coarse"] = tv(coarse(ens), coarse(gf), xc)
    s["tv_coarse_ens_mm"] = tv(coarse(ens), coarse(mm), xc)
    s["tv_coarse_floor"] = tv(coarse(d["gf_half_a"]), coarse(d["gf_half_b"]), xc) / np.sqrt(2)
    s["tv_coarse_ens_pfode"] = tv(coarse(ens), coarse(np.broadcast_to(pf, ens.shape)), xc)
    s["tv_coarse_gf_pfode"] = tv(coarse(gf), coarse(np.broadcast_to(pf, ens.shape)), xc)
    for name, arr in (("ensemble", ens), ("gaussian_field", gf), ("moment_matched", mm),
                      ("semiclassical", sc)):
        s[f"gap_{name}"] = metrics.gap_mass(arr, x)
        s[f"modes_{name}"] = metrics.mode_masses(arr, x)
    if "mean_model" in d:
        s["gap_mean_model"] = metrics.gap_mass(d["mean_model"], x)
        s["modes_mean_model"] = metrics.mode_masses(d["mean_model"], x)
        s["tv_mean_model_pfode"] = tv(d["mean_model"], d["pfode"], x)
    s["gap_pfode"] = metrics.gap_mass(d["pfode"], x)
    s["gap_true"] = metrics.gap_mass(d["true"], x)
    s["modes_pfode"] = metrics.mode_masses(d["pfode"], x)
    s["modes_true"] = metrics.mode_masses(d["true"], x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = d["var_emp"] / d["var_pred"]
    s["var_ratio_median"] = np.nanmedian(ratio.reshape(ratio.shape[0], ratio.shape[1], -1), axis=2)
    s["trainvar_ratio"] = d["trainvar_emp"] / d["trainvar_pred"]
    ak = np.abs(d["skew"]).reshape(d["skew"].shape[0], d["skew"].shape[1], -1)
    kk = d["kurt"].reshape(ak.shape)
    s["skew_absmax"] = ak.max(-1)
    s["skew_absmedian"] = np.median(ak, -1)
    s["kurt_max"] = kk.max(-1)
    s["kurt_median"] = np.median(kk, -1)
    return s


def compute_2d(*, seed, n_models, quick, cache, prog) -> dict:
    """The 2-D setting: square data, crossed Gaussian features 6x6x6 (F = 216), eps = 1e-2."""
    vp = VP()
    pts = data_mod.square(0.0)
    eps = EPS_2D
    fm = make_features("gaussian", 2, N_2D, N_2D, eps, T=T_END, x_range=(-1.5, 1.5))
    P_list = P_2D
    n_samp = 2000 if quick else SAMPLES_2D

    def push(den, rng, n=n_samp):
        """Histogram of PF-ODE samples (the 2-D sample-free transport is not available)."""
        s = sample_pf_ode(den, TimeGrid.linear(vp, eps, T_END, N_STEPS), n_samples=n, rng=rng)
        return histogram_masses(s, (EDGES_2D, EDGES_2D))

    base = {"schedule": vp.cache_key(), "data": pts, "features": fm.cache_key(), "eps": eps,
            "ridge": RIDGE, "n_steps": N_STEPS, "edges": EDGES_2D, "n_samples": n_samp,
            "version": KERNEL_VERSION}

    def kern():
        nodes = kernels.training_nodes(pts, vp, eps, T_END, method="qmc", n_mc=N_QMC_2D,
                                       rng=_rng(seed, 7))
        d = _kernel_arrays(fm, pts, vp, eps, nodes=nodes)
        d["W_exact"] = population_weights(fm, pts, vp, eps=eps, T=T_END, ridge=RIDGE)
        return d

    with prog.stage("2-D V-kernel (QMC)"):
        kd = cache.get_or_compute("theory-kernel-2d", dict(base, n_qmc=N_QMC_2D, seed=seed),
                                  kern, prog)

    def pf():
        return {"m": push(ExactDenoiser(pts, vp), _rng(seed, 8), n=n_samp * 20)}

    pfm = cache.get_or_compute("theory-2d-pfode", base, pf, prog)["m"]
    res = {"ens": [], "gf": [], "mm": []}
    for P in P_list:
        def panel(P=P):
            K = _kernel_from_arrays(kd, fm, vp, int(P))
            K.W_star = kd["W_exact"]  # exact population mean; QMC only for the covariance
            r_tr, r_gf, r_mm, r_s = _rng(seed, 2, P).spawn(4)
            W = train_ensemble(fm, pts, vp, P=int(P), n_models=n_models, eps=eps,
                               T=T_END, ridge=RIDGE, rng=r_tr)
            s1, s2, s3 = r_s.spawn(3)
            me = push(LinearDenoiser(fm, W), s1)
            mg = push(LinearDenoiser(fm, K.sample_weights(n_models, r_gf)), s2)
            mm = push(LinearDenoiser(fm, typical.moment_matched_weights(W, n_models, r_mm)), s3)
            return {"ens": me.mean(0), "gf": mg.mean(0), "mm": mm.mean(0)}

        t0 = time.perf_counter()
        r = cache.get_or_compute("theory-2d-panel", dict(base, P=int(P), seed=seed,
                                                          n_models=n_models), panel, prog)
        for k in res:
            res[k].append(r[k])
        prog.log(f"2-D panel P={P} (F/P={fm.n_features / P:g}) {time.perf_counter() - t0:.1f} s")
    ens, gf, mm = (np.array(res[k]) for k in ("ens", "gf", "mm"))

    def nrm(a):
        return a / a.sum(axis=(-2, -1), keepdims=True)

    def tv2(a, b):
        return 0.5 * np.abs(nrm(a) - nrm(b)).sum(axis=(-2, -1))

    c = 0.5 * (EDGES_2D[1:] + EDGES_2D[:-1])
    X, Y = np.meshgrid(c, c, indexing="ij")
    r = np.hypot(X, Y)
    # 'edge' region between neighbouring points of the square (the diamond's sides, away
    # from the points): distance to the unit points > 0.25 and |x|+|y| within 0.25 of 1
    near = np.min([np.hypot(X - p[0], Y - p[1]) for p in pts], axis=0)
    edge = (near > 0.25) & (np.abs(np.abs(X) + np.abs(Y) - 1) < 0.25)
    centre = r < 0.25

    def mass(a, sel):
        return (nrm(a) * sel).sum(axis=(-2, -1))

    return {
        "x2d": c, "P2d": np.asarray(P_list), "ens2d": nrm(ens), "gf2d": nrm(gf), "mm2d": nrm(mm),
        "pfode2d": nrm(pfm), "tv2d_ens_gf": tv2(ens, gf), "tv2d_ens_mm": tv2(ens, mm),
        "tv2d_ens_pfode": tv2(ens, pfm[None]), "tv2d_gf_pfode": tv2(gf, pfm[None]),
        "edge2d_ens": mass(ens, edge), "edge2d_gf": mass(gf, edge), "edge2d_mm": mass(mm, edge),
        "edge2d_pfode": mass(pfm, edge), "centre2d_ens": mass(ens, centre),
        "centre2d_gf": mass(gf, centre), "centre2d_pfode": mass(pfm, centre),
        "W2d_qmc_err": np.array(np.abs(kd["W_star"] - kd["W_exact"]).max()
                                / np.abs(kd["W_exact"]).max()),
    }


MAIN_KEYS = ("x", "eps", "P", "ensemble", "gaussian_field", "tv")


def _table_tvs(d) -> str:
    lines = ["# theory-vs-ensemble: numbers", "",
             "Rows eps, columns P (F/P = 256/P). TV = total variation on the 200-bin grid "
             "[-1.5, 1.5]; gap = P(0.25<|x|<0.75); modes = mass in x<-0.5 | |x|<0.5 | x>0.5.",
             ""]
    P = d["P"]
    hdr = "| eps | quantity | " + " | ".join(f"P={p} (F/P={256 / p:g})" for p in P) + " |"
    sep = "|---|---|" + "---|" * len(P)
    lines += [hdr, sep]
    rows = [("TV ensemble vs Gaussian field", "tv"), ("TV ensemble vs moment-matched", "tv_ens_mm"),
            ("TV ensemble vs semiclassical", "tv_ens_sc"), ("finite-N TV floor", "tv_floor"),
            ("TV ensemble vs PF-ODE", "tv_ens_pfode"), ("TV Gaussian field vs PF-ODE", "tv_gf_pfode"),
            ("coarse TV (0.15 bins) ensemble vs GF", "tv_coarse"),
            ("coarse TV ensemble vs moment-matched", "tv_coarse_ens_mm"),
            ("coarse finite-N TV floor", "tv_coarse_floor"),
            ("coarse TV ensemble vs PF-ODE", "tv_coarse_ens_pfode"),
            ("coarse TV GF vs PF-ODE", "tv_coarse_gf_pfode"),
            ("TV ensemble vs p(x|eps)", "tv_ens_true"), ("TV Gaussian field vs p(x|eps)", "tv_gf_true"),
            ("gap ensemble", "gap_ensemble"), ("gap Gaussian field", "gap_gaussian_field"),
            ("gap moment-matched", "gap_moment_matched"), ("gap semiclassical", "gap_semiclassical"),
            ("Var ratio emp/pred (median over x,t)", "var_ratio_median"),
            ("E[lam tr Var] emp/pred", "trainvar_ratio"),
            ("max |skew|", "skew_absmax"), ("median |skew|", "skew_absmedian"),
            ("max excess kurtosis", "kurt_max"), ("median excess kurtosis", "kurt_median")]
    for i, e in enumerate(d["eps"]):
        for label, k in rows:
            lines.append(f"| {e:g} | {label} | " + " | ".join(f"{v:.3f}" for v in d[k][i]) + " |")
        for label, k in (("modes ensemble", "modes_ensemble"), ("modes Gaussian field",
                                                                "modes_gaussian_field")):
            lines.append(f"| {e:g} | {label} | " + " | ".join(
                "/".join(f"{m:.3f}" for m in d[k][i, j]) for j in range(len(P))) + " |")
        lines.append(f"| {e:g} | PF-ODE: gap {d['gap_pfode'][i]:.3f}, modes "
                     f"{'/'.join(f'{m:.3f}' for m in d['modes_pfode'][i])}; p(x|eps): gap "
                     f"{d['gap_true'][i]:.4f}; TV(PF-ODE, p) {d['tv_pfode_true'][i]:.3f}; "
                     + (f"mean model W* (no variance): gap {d['gap_mean_model'][i]:.3f}, TV to "
                        f"PF-ODE {d['tv_mean_model_pfode'][i]:.3f}; " if "gap_mean_model" in d
                        else "") +
                     f"F_eff = {d['F_eff'][i]:.1f} |" + " |" * len(P))
    if "P2d" in d:
        lines += ["", "## 2-D setting (square, theta = 0, Gaussian 6x6x6, F = 216, eps = 1e-2)", "",
                  "| quantity | " + " | ".join(f"P={p} (F/P={216 / p:g})" for p in d["P2d"]) + " |",
                  "|---|" + "---|" * len(d["P2d"])]
        for label, k in (("TV ensemble vs Gaussian field", "tv2d_ens_gf"),
                         ("TV ensemble vs moment-matched", "tv2d_ens_mm"),
                         ("TV ensemble vs PF-ODE", "tv2d_ens_pfode"),
                         ("TV Gaussian field vs PF-ODE", "tv2d_gf_pfode"),
                         ("edge mass ensemble", "edge2d_ens"), ("edge mass Gaussian field", "edge2d_gf"),
                         ("edge mass moment-matched", "edge2d_mm"),
                         ("centre mass ensemble", "centre2d_ens"),
                         ("centre mass Gaussian field", "centre2d_gf")):
            lines.append(f"| {label} | " + " | ".join(f"{v:.3f}" for v in d[k]) + " |")
        lines.append(f"| PF-ODE edge mass {float(d['edge2d_pfode']):.3f}, centre mass "
                     f"{float(d['centre2d_pfode']):.3f}; QMC error of W* {float(d['W2d_qmc_err']):.3f} |"
                     + " |" * len(d["P2d"]))
    return "\n".join(lines) + "\n"


def plot_theory_vs_ensemble(d):
    import matplotlib.pyplot as plt

    eps, P, x = d["eps"], d["P"], d["x"]
    nE, nP = len(eps), len(P)
    figs = {}
    fig, axes = plt.subplots(nE, nP, figsize=(1.75 * nP, 1.45 * nE), sharex=True, sharey=True,
                             squeeze=False)
    for i in range(nE):
        for j in range(nP):
            ax = axes[i, j]
            ax.plot(x, d["true"][i], color="k", lw=0.6, label="p(x|eps)")
            ax.plot(x, d["pfode"][i], color="0.6", lw=0.8, label="exact-score PF-ODE")
            ax.plot(x, d["ensemble"][i, j], color="C3", lw=1.0, label="trained ensemble")
            ax.plot(x, d["gaussian_field"][i, j], color="C0", lw=0.9, ls="--",
                    label="Gaussian field (V-kernel)")
            if "mean_model" in d:
                ax.plot(x, d["mean_model"][i], color="C1", lw=0.6, ls="-.",
                        label="mean model W* (no variance)")
            ax.plot(x, d["moment_matched"][i, j], color="C2", lw=0.7, ls=":",
                    label="moment-matched Gaussian")
            ax.set_ylim(0, 2.5)
            ax.text(0.03, 0.95, f"TV={d['tv'][i, j]:.2f}\nTVmm={d['tv_ens_mm'][i, j]:.2f}",
                    transform=ax.transAxes, va="top", fontsize=5.5)
            if i == 0:
                ax.set_title(f"F/P = {256 / P[j]:g}")
            if j == 0:
                ax.set_ylabel(f"eps = {eps[i]:g}")
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.legend(h, lab, loc="lower center", ncol=6, fontsize=6, frameon=False)
    figs["theory_vs_ensemble"] = fig

    fig, axes = plt.subplots(1, 6, figsize=(13.0, 2.3))
    r = 256 / P
    for i in range(nE):
        c = f"C{i}"
        axes[0].plot(r, d["tv"][i], "-o", color=c, ms=3, label=f"ens vs GF, eps={eps[i]:g}")
        axes[0].plot(r, d["tv_ens_mm"][i], ":s", color=c, ms=2.5)
        axes[0].plot(r, d["tv_floor"][i], "--", color=c, lw=0.6)
        axes[1].plot(r, d["gap_ensemble"][i], "-o", color=c, ms=3)
        axes[1].plot(r, d["gap_gaussian_field"][i], "--^", color=c, ms=3)
        axes[1].axhline(d["gap_pfode"][i], color=c, lw=0.5, ls=":")
        axes[2].plot(r, d["trainvar_ratio"][i], "-o", color=c, ms=3)
        axes[2].plot(r, d["var_ratio_median"][i], "--^", color=c, ms=3)
        axes[3].plot(r, d["skew_absmax"][i], "-o", color=c, ms=3)
        axes[3].plot(r, d["kurt_max"][i], "--^", color=c, ms=3)
    for ax in axes[:4]:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("F/P")
    axes[0].set_title("TV: ens vs GF (o), vs moment-matched (s), floor (--)", fontsize=6)
    axes[1].set_title("gap mass: ens (o), GF (^), PF-ODE (:)", fontsize=6)
    axes[2].set_title("variance emp/pred: E[lam tr Var] (o), median (^)", fontsize=6)
    axes[2].axhline(1, color="k", lw=0.5)
    axes[2].set_yscale("log")
    axes[3].set_title("max |skew| (o), max excess kurtosis (^)", fontsize=6)
    axes[3].set_yscale("log")
    axes[0].legend(fontsize=5, frameon=False)
    # skewness / excess kurtosis of mu_hat(x, t) across the ensemble vs x (eps = first row)
    xs, tt = d["x_ng"], d["t_ng"][0]
    for ax, key, lab in ((axes[4], "skew", "skewness"), (axes[5], "kurt", "excess kurtosis")):
        for j in (0, len(P) - 1):
            for k, ls in ((0, "-"), (2, ":")):
                ax.plot(xs, d[key][0, j, :, k], ls, color="C3" if j else "C0", lw=0.8,
                        label=f"F/P={256 / P[j]:g}, t={tt[k]:g}")
        ax.set_xscale("linear")
        ax.set_xlabel("x")
        ax.set_title(f"{lab} of mu_hat (eps={eps[0]:g})", fontsize=6)
    axes[4].legend(fontsize=4.5, frameon=False)
    fig.tight_layout()
    figs["theory_vs_ensemble_summary"] = fig

    if "P2d" in d:
        P2 = d["P2d"]
        fig, axes = plt.subplots(3, len(P2) + 1, figsize=(1.9 * (len(P2) + 1), 5.4), squeeze=False)
        c = d["x2d"]
        ext = (c[0], c[-1], c[0], c[-1])
        vmax = np.quantile(d["ens2d"], 0.995)
        for j in range(len(P2)):
            for i, (k, lab) in enumerate((("ens2d", "ensemble"), ("gf2d", "Gaussian field"),
                                          ("mm2d", "moment-matched"))):
                ax = axes[i, j]
                ax.imshow(d[k][j].T, origin="lower", extent=ext, cmap="RdBu_r", vmin=0, vmax=vmax)
                ax.set_title(f"{lab}, F/P={216 / P2[j]:g}", fontsize=6)
                ax.set_xticks([])
                ax.set_yticks([])
        for i in range(3):
            axes[i, -1].axis("off")
        axes[0, -1].imshow(d["pfode2d"].T, origin="lower", extent=ext, cmap="RdBu_r", vmin=0,
                           vmax=vmax)
        axes[0, -1].axis("on")
        axes[0, -1].set_title("exact-score PF-ODE", fontsize=6)
        axes[0, -1].set_xticks([])
        axes[0, -1].set_yticks([])
        txt = "\n".join(f"F/P={216 / p:g}: TV ens-GF {a:.2f}, ens-mm {b:.2f}"
                        for p, a, b in zip(P2, d["tv2d_ens_gf"], d["tv2d_ens_mm"], strict=True))
        axes[1, -1].text(0, 0.5, txt, fontsize=5.5, va="center")
        fig.tight_layout()
        figs["theory_vs_ensemble_2d"] = fig
    return figs


def _save_details(save_data, d, main_keys):
    p = Path(save_data)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, **{k: d[k] for k in main_keys})
    extra = p.with_name(p.stem + "_details.npz")
    np.savez(extra, **{k: v for k, v in d.items() if k not in main_keys})
    return [p, extra]


@register("theory-vs-ensemble", options=("seed", "n_models", "quick", "no_cache"))
def theory_vs_ensemble(out_dir, *, save_data=None, progress=None, seed=None, n_models=None,
                       quick=False, no_cache=False):
    """Typical learned distribution: trained ensembles vs the V-kernel (path-integral) prediction."""
    prog = progress or Progress("theory-vs-ensemble", enabled=False)
    d = compute_theory_vs_ensemble(seed=seed, n_models=n_models, quick=bool(quick),
                                   no_cache=bool(no_cache), progress=prog)
    paths = []
    with style():
        for name, fig in plot_theory_vs_ensemble(d).items():
            paths += save_figure(fig, out_dir, name)
    table = Path(out_dir) / "theory_vs_ensemble_table.md"
    table.write_text(_table_tvs(d))
    paths.append(table)
    if save_data is not None:
        paths += _save_details(save_data, d, MAIN_KEYS)
    return paths


# ========================================================================================
# ablation
# ========================================================================================
ABL_EPS = 1e-2
ABL_P = (1024, 256)
KAPPAS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
EM_KAPPA = 0.5


def compute_ablation(*, seed=DEFAULT_SEED, n_models=None, quick=False, no_cache=False,
                     progress=None, cache_dir=None) -> dict:
    prog = progress or Progress("ablation", enabled=False)
    n_models = int(n_models) if n_models is not None else (QUICK_MODELS if quick else N_MODELS)
    if n_models < 4:
        raise ValueError(f"n_models must be >= 4, got {n_models}")
    seed = DEFAULT_SEED if seed is None else int(seed)
    vp = VP()
    pts = data_mod.three_points()
    x, edges = fig2_mod.grid()
    cache = Cache(cache_dir, enabled=not no_cache)
    eps = ABL_EPS
    fm = make_features("gaussian", 1, N_X, N_T, eps, T=T_END, x_range=(-1.5, 1.5))
    out = {"x": x, "eps": np.array(eps), "P": np.array(ABL_P), "kappa": np.array(KAPPAS),
           "x_ng": X_NG, "t_ng": _t_ng(eps)}
    kd = {tg: _linear_kernel_cached(cache, fm, pts, vp, eps, tg, prog) for tg in ("proxy", "true")}
    base = {"schedule": vp.cache_key(), "data": pts, "features": fm.cache_key(), "eps": eps,
            "ridge": RIDGE, "n_steps": N_STEPS, "transport": TRANSPORT, "edges": edges,
            "seed": seed, "n_models": n_models, "x_ng": X_NG, "version": KERNEL_VERSION}
    for tg in ("proxy", "true"):
        dens, var_emp, var_pred, tve, tvp, cterm = [], [], [], [], [], []
        for P in ABL_P:
            K = _kernel_from_arrays(kd[tg], fm, vp, int(P), target=tg)

            def panel(P=P, tg=tg):
                rng = _rng(seed, 3, P)  # same draws for both targets: a paired comparison
                W = train_ensemble(fm, pts, vp, P=int(P), n_models=n_models, eps=eps,
                                   T=T_END, ridge=RIDGE, rng=rng, target=tg)
                m = pushforward_1d(LinearDenoiser(fm, W),
                                   TimeGrid.linear(vp, eps, T_END, N_STEPS), edges, **TRANSPORT)
                vals, _ = _values_on_grid(W, fm, eps)
                dW = (W - W.mean(0))[:, 0, :]
                return {"m": m, "var": vals.var(0, ddof=1), "cov": dW.T @ dW / (n_models - 1)}

            with prog.stage(f"ablation target={tg} P={P}"):
                r = cache.get_or_compute("ablation-panel", dict(base, P=int(P), target=tg),
                                         panel, prog)
            dens.append(_density(r["m"], edges).mean(0))
            var_emp.append(r["var"])
            _, phi = _values_on_grid(np.zeros((1, 1, fm.n_features)), fm, eps)
            var_pred.append(np.einsum("pf,fg,pg->p", phi, K.cov_W[0, :, 0, :], phi)
                            .reshape(X_NG.size, -1))
            tve.append(np.trace(K.G @ r["cov"]))
            tvp.append(K.training_variance())
            cterm.append(np.trace(K.G @ K.parts["C_term"][0, :, 0, :]))
        out[f"density_{tg}"] = np.array(dens)
        out[f"var_emp_{tg}"] = np.array(var_emp)
        out[f"var_pred_{tg}"] = np.array(var_pred)
        out[f"trainvar_emp_{tg}"] = np.array(tve)
        out[f"trainvar_pred_{tg}"] = np.array(tvp)
        out[f"trainvar_Cterm_{tg}"] = np.array(cterm)
    out["true"] = fig2_mod.true_density(eps, edges, vp, pts)
    pf = cache.get_or_compute(
        "fig2-pfode", {"schedule": vp.cache_key(), "data": pts, "n_x": N_X, "n_t": N_T,
                       "family": "gaussian", "n_steps": N_STEPS, "ridge": RIDGE, "T": T_END,
                       "edges": edges, "method": "euler", "eps": eps, "transport": TRANSPORT},
        lambda: {"masses": pushforward_1d(ExactDenoiser(pts, vp),
                                          TimeGrid.linear(vp, eps, T_END, N_STEPS), edges,
                                          **TRANSPORT)}, prog)
    out["pfode"] = _density(pf["masses"], edges)
    out["mean_model"] = _mean_model_density(cache, fm, pts, vp, eps, kd["proxy"], edges, prog)
    out["gap_mean_model"] = metrics.gap_mass(out["mean_model"], x)
    out["modes_mean_model"] = metrics.mode_masses(out["mean_model"], x)

    # naive estimator vs kappa: Fokker-Planck (+ an Euler-Maruyama check, + small-noise)
    def naive():
        res = {}
        for k in KAPPAS:
            xf, q = typical.naive_fokker_planck(kernels.NaiveKernel(pts, vp, k),
                                                TimeGrid.geometric(vp, eps, T_END, 1500))
            res[f"fp_{k:g}"] = np.interp(x, xf, q)
            sc, _ = typical.semiclassical_naive(kernels.NaiveKernel(pts, vp, k),
                                                TimeGrid.geometric(vp, eps, 1.0, 600), x,
                                                n_seeds=1501)
            res[f"sc_{k:g}"] = sc
        em = typical.naive_em(kernels.NaiveKernel(pts, vp, EM_KAPPA),
                              TimeGrid.geometric(vp, eps, T_END, 800),
                              n_samples=4000 if quick else 20000, rng=_rng(seed, 4))
        res["em"] = em[:, 0]
        return res

    with prog.stage("naive estimator: Fokker-Planck vs kappa"):
        nv = cache.get_or_compute("ablation-naive", {"schedule": vp.cache_key(), "data": pts,
                                                     "eps": eps, "kappas": KAPPAS, "seed": seed,
                                                     "quick": bool(quick), "x": x, "version": 2},
                                  naive, prog)
    out["naive_fp"] = np.array([nv[f"fp_{k:g}"] for k in KAPPAS])
    out["naive_sc"] = np.array([nv[f"sc_{k:g}"] for k in KAPPAS])
    out["naive_em_samples"] = nv["em"]
    out["naive_modes"] = metrics.mode_masses(out["naive_fp"], x)
    out["naive_gap"] = metrics.gap_mass(out["naive_fp"], x)
    out["naive_sc_modes"] = metrics.mode_masses(out["naive_sc"], x)
    em = nv["em"]
    out["naive_em_modes"] = np.array([np.mean(em < -0.5), np.mean(np.abs(em) < 0.5),
                                      np.mean(em > 0.5)])
    out["naive_em_gap"] = np.array(np.mean((np.abs(em) > 0.25) & (np.abs(em) < 0.75)))
    for tg in ("proxy", "true"):
        out[f"gap_{tg}"] = metrics.gap_mass(out[f"density_{tg}"], x)
        out[f"modes_{tg}"] = metrics.mode_masses(out[f"density_{tg}"], x)
        out[f"tv_pfode_{tg}"] = metrics.total_variation(out[f"density_{tg}"], out["pfode"], x)
    out["gap_pfode"] = metrics.gap_mass(out["pfode"], x)
    out["modes_pfode"] = metrics.mode_masses(out["pfode"], x)
    return out


def _table_ablation(d) -> str:
    L = ["# ablation: numbers", "", f"eps = {float(d['eps']):g}, Gaussian 16x16 features, ridge 0.1", "",
         "| quantity | " + " | ".join(f"P={p} (F/P={256 / p:g})" for p in d["P"]) + " |",
         "|---|" + "---|" * len(d["P"])]
    for lab, k in (("E[lam tr Var mu_hat] J1 (proxy) emp", "trainvar_emp_proxy"),
                   ("E[lam tr Var mu_hat] J1 pred", "trainvar_pred_proxy"),
                   ("  of which C-term (pred)", "trainvar_Cterm_proxy"),
                   ("E[lam tr Var mu_hat] J0 (true) emp", "trainvar_emp_true"),
                   ("E[lam tr Var mu_hat] J0 pred", "trainvar_pred_true"),
                   ("gap J1", "gap_proxy"), ("gap J0", "gap_true"),
                   ("TV(J1 avg, PF-ODE)", "tv_pfode_proxy"), ("TV(J0 avg, PF-ODE)", "tv_pfode_true")):
        L.append(f"| {lab} | " + " | ".join(f"{v:.4g}" for v in d[k]) + " |")
    for lab, k in (("modes J1", "modes_proxy"), ("modes J0", "modes_true")):
        L.append(f"| {lab} | " + " | ".join("/".join(f"{m:.3f}" for m in row) for row in d[k]) + " |")
    L += ["", f"PF-ODE (30-step Euler, exact score): gap {float(d['gap_pfode']):.4f}, modes "
          + "/".join(f"{m:.3f}" for m in d["modes_pfode"]),
          f"Mean model W* (population ridge solution, no variance; J0 and J1 share it): gap "
          f"{float(d['gap_mean_model']):.4f}, modes "
          + "/".join(f"{m:.3f}" for m in d["modes_mean_model"]), "",
          "## naive estimator (Fokker-Planck, diffusion limit of Prop. 4.1)", "",
          "| kappa | mass x<-0.5 | mass |x|<0.5 | mass x>0.5 | gap | small-noise middle mass |",
          "|---|---|---|---|---|---|"]
    for k, mm, g, sc in zip(d["kappa"], d["naive_modes"], d["naive_gap"], d["naive_sc_modes"], strict=True):
        L.append(f"| {k:g} | {mm[0]:.4f} | {mm[1]:.4f} | {mm[2]:.4f} | {g:.5f} | {sc[1]:.4f} |")
    em = d["naive_em_modes"]
    L.append(f"\nEuler-Maruyama check at kappa = {EM_KAPPA:g} ({d['naive_em_samples'].size} samples, "
             f"800 geometric steps): modes {em[0]:.4f}/{em[1]:.4f}/{em[2]:.4f}, gap "
             f"{float(d['naive_em_gap']):.5f}")
    return "\n".join(L) + "\n"


def plot_ablation(d):
    import matplotlib.pyplot as plt

    x = d["x"]
    fig, axes = plt.subplots(1, 4, figsize=(9.5, 2.4))
    ax = axes[0]
    ax.plot(x, d["true"], "k", lw=0.6, label="p(x|eps)")
    ax.plot(x, d["pfode"], color="0.6", lw=0.8, label="exact-score PF-ODE")
    j = list(d["P"]).index(256) if 256 in d["P"] else 0
    ax.plot(x, d["density_proxy"][j], "C3", lw=1, label="J1 (proxy target)")
    ax.plot(x, d["density_true"][j], "C0--", lw=1, label="J0 (true-score target)")
    ax.plot(x, d["mean_model"], "C1-.", lw=0.7, label="mean model W* (no variance)")
    ax.set_ylim(0, 2.5)
    ax.set_title(f"linear models, F/P = {256 / d['P'][j]:g}", fontsize=7)
    ax.legend(fontsize=5, frameon=False)
    ax = axes[1]
    tt = d["t_ng"]
    k = 1  # t = 0.03
    for tg, c in (("proxy", "C3"), ("true", "C0")):
        ax.semilogy(d["x_ng"], d[f"var_emp_{tg}"][j][:, k], c, lw=1, label=f"{tg}: ensemble")
        ax.semilogy(d["x_ng"], np.maximum(d[f"var_pred_{tg}"][j][:, k], 1e-12), c + ":", lw=1,
                    label=f"{tg}: predicted")
    ax.set_title(f"Var mu_hat(x, t={tt[k]:g}) across models", fontsize=7)
    ax.legend(fontsize=5, frameon=False)
    ax = axes[2]
    for i, kap in enumerate(d["kappa"]):
        ax.plot(x, d["naive_fp"][i], color=plt.cm.viridis(i / max(1, len(d["kappa"]) - 1)),
                lw=0.8, label=f"kappa={kap:g}")
    ax.set_ylim(0, 4)
    ax.set_title("naive estimator (Fokker-Planck)", fontsize=7)
    ax.legend(fontsize=4.5, frameon=False)
    ax = axes[3]
    kap = d["kappa"]
    ax.plot(kap, d["naive_modes"][:, 1], "-o", ms=3, label="middle mode mass")
    ax.plot(kap, d["naive_modes"][:, 0] + d["naive_modes"][:, 2], "-s", ms=3, label="outer modes")
    ax.plot(kap, d["naive_gap"], "-^", ms=3, label="gap mass")
    ax.plot(kap, d["naive_sc_modes"][:, 1], ":", color="C0", label="middle (small-noise)")
    ax.plot([EM_KAPPA], [d["naive_em_modes"][1]], "kx", label="middle (Euler-Maruyama)")
    ax.set_xlabel("kappa")
    ax.set_title("mass moved between modes", fontsize=7)
    ax.legend(fontsize=5, frameon=False)
    fig.tight_layout()
    return fig


@register("ablation", options=("seed", "n_models", "quick", "no_cache"))
def ablation(out_dir, *, save_data=None, progress=None, seed=None, n_models=None, quick=False,
             no_cache=False):
    """Causal ablation: J0 vs J1 targets (V collapses) and the naive estimator vs kappa."""
    prog = progress or Progress("ablation", enabled=False)
    d = compute_ablation(seed=seed, n_models=n_models, quick=bool(quick), no_cache=bool(no_cache),
                         progress=prog)
    with style():
        paths = save_figure(plot_ablation(d), out_dir, "ablation")
    table = Path(out_dir) / "ablation_table.md"
    table.write_text(_table_ablation(d))
    paths.append(table)
    if save_data is not None:
        paths.append(save_arrays(save_data, d))
    return paths


# ========================================================================================
# phase
# ========================================================================================
PHASE_EPS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
PHASE_RATIO = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8)
PHASE_MODELS = 40
PHASE_QUICK = 8


def compute_phase(*, seed=DEFAULT_SEED, n_models=None, quick=False, no_cache=False,
                  progress=None, cache_dir=None, eps_list=PHASE_EPS, ratios=PHASE_RATIO) -> dict:
    prog = progress or Progress("phase", enabled=False)
    n_models = int(n_models) if n_models is not None else (PHASE_QUICK if quick else PHASE_MODELS)
    if n_models < 2:
        raise ValueError(f"n_models must be >= 2, got {n_models}")
    seed = DEFAULT_SEED if seed is None else int(seed)
    if quick:
        eps_list, ratios = eps_list[::2], ratios[::2]
    vp = VP()
    pts = data_mod.three_points()
    x, edges = fig2_mod.grid()
    cache = Cache(cache_dir, enabled=not no_cache)
    F = N_X * N_T
    nE, nR = len(eps_list), len(ratios)
    tv_ens, tv_gf, gap_ens, gap_gf = (np.zeros((nE, nR)) for _ in range(4))
    gap_pf = np.zeros(nE)
    for i, eps in enumerate(eps_list):
        fm = make_features("gaussian", 1, N_X, N_T, eps, T=T_END, x_range=(-1.5, 1.5))
        kd = _linear_kernel_cached(cache, fm, pts, vp, eps, "proxy", prog)
        push = dict(TRANSPORT)
        pf = cache.get_or_compute("phase-pfode", {"schedule": vp.cache_key(), "eps": eps,
                                                  "edges": edges, "transport": TRANSPORT,
                                                  "n_steps": N_STEPS},
                                  lambda eps=eps, push=push: {"m": pushforward_1d(
                                      ExactDenoiser(pts, vp),
                                      TimeGrid.linear(vp, eps, T_END, N_STEPS), edges,
                                      **push)}, prog)
        pfd = _density(pf["m"], edges)
        gap_pf[i] = metrics.gap_mass(pfd, x)
        for j, r in enumerate(ratios):
            P = int(round(F / r))
            K = _kernel_from_arrays(kd, fm, vp, P)

            def cell(eps=eps, P=P, K=K, fm=fm, push=push):
                r_tr, r_gf = _rng(seed, 6, _eps_code(eps), P).spawn(2)
                W = train_ensemble(fm, pts, vp, P=P, n_models=n_models, eps=eps, T=T_END,
                                   ridge=RIDGE, rng=r_tr)
                grid = TimeGrid.linear(vp, eps, T_END, N_STEPS)
                me = pushforward_1d(LinearDenoiser(fm, W), grid, edges, **push)
                mg = pushforward_1d(LinearDenoiser(fm, K.sample_weights(n_models, r_gf)), grid,
                                    edges, **push)
                return {"ens": _density(me, edges).mean(0), "gf": _density(mg, edges).mean(0)}

            t0 = time.perf_counter()
            c = cache.get_or_compute("phase-cell", {"schedule": vp.cache_key(), "eps": eps,
                                                    "P": P, "seed": seed, "n_models": n_models,
                                                    "features": fm.cache_key(), "ridge": RIDGE,
                                                    "transport": TRANSPORT, "edges": edges,
                                                    "version": KERNEL_VERSION},
                                     cell, prog)
            tv_ens[i, j] = metrics.total_variation(c["ens"], pfd, x)
            tv_gf[i, j] = metrics.total_variation(c["gf"], pfd, x)
            gap_ens[i, j] = metrics.gap_mass(c["ens"], x)
            gap_gf[i, j] = metrics.gap_mass(c["gf"], x)
            prog.log(f"phase eps={eps:g} F/P={r:g} {time.perf_counter() - t0:.1f} s")
    return {"eps": np.asarray(eps_list, float), "ratio": np.asarray(ratios, float),
            "tv_ens_pfode": tv_ens, "tv_gf_pfode": tv_gf, "gap_ens": gap_ens, "gap_gf": gap_gf,
            "gap_pfode": gap_pf, "n_models": np.array(n_models)}


def plot_phase(d):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(9.5, 2.4))
    lr, le = np.log2(d["ratio"]), np.log10(d["eps"])
    panels = (("tv_ens_pfode", "TV(ensemble, PF-ODE)"), ("tv_gf_pfode", "TV(Gaussian field, PF-ODE)"),
              ("gap_ens", "gap mass, ensemble"), ("gap_gf", "gap mass, Gaussian field"))
    for ax, (k, title) in zip(axes, panels, strict=True):
        vmax = max(d["tv_ens_pfode"].max(), d["tv_gf_pfode"].max()) if k.startswith("tv") else \
            max(d["gap_ens"].max(), d["gap_gf"].max())
        im = ax.imshow(d[k], origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=vmax,
                       extent=(lr[0] - 0.5, lr[-1] + 0.5, -0.5, len(le) - 0.5))
        ax.set_yticks(range(len(le)))
        ax.set_yticklabels([f"{e:g}" for e in d["eps"]])
        ax.set_xlabel("log2 F/P")
        ax.set_title(title, fontsize=7)
        for (i, j), v in np.ndenumerate(d[k]):
            ax.text(lr[j], i, f"{v:.2f}", ha="center", va="center", fontsize=4,
                    color="w" if v < 0.6 * vmax else "k")
        fig.colorbar(im, ax=ax, shrink=0.8)
    axes[0].set_ylabel("eps")
    fig.tight_layout()
    return fig


@register("phase", options=("seed", "n_models", "quick", "no_cache"))
def phase(out_dir, *, save_data=None, progress=None, seed=None, n_models=None, quick=False,
          no_cache=False):
    """Generalization measure (TV to the exact-score PF-ODE, gap mass) over eps x F/P."""
    prog = progress or Progress("phase", enabled=False)
    d = compute_phase(seed=seed, n_models=n_models, quick=bool(quick), no_cache=bool(no_cache),
                      progress=prog)
    with style():
        paths = save_figure(plot_phase(d), out_dir, "phase")
    L = ["# phase: numbers", "", f"N = {int(d['n_models'])} models per cell; F = 256", "",
         "| eps | measure | " + " | ".join(f"F/P={r:g}" for r in d["ratio"]) + " |",
         "|---|---|" + "---|" * len(d["ratio"])]
    for i, e in enumerate(d["eps"]):
        for k in ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf"):
            L.append(f"| {e:g} | {k} | " + " | ".join(f"{v:.3f}" for v in d[k][i]) + " |")
        L.append(f"| {e:g} | gap PF-ODE = {d['gap_pfode'][i]:.3f} |" + " |" * len(d["ratio"]))
    table = Path(out_dir) / "phase_table.md"
    table.write_text("\n".join(L) + "\n")
    paths.append(table)
    if save_data is not None:
        paths.append(save_arrays(save_data, d))
    return paths
