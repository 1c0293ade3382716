r"""PF-ODE and reverse-SDE samplers, and sample-free density transport (paper-math.md 1.5, 3.1).

A *denoiser* is any callable ``mu(x, t)`` returning an estimate of ``E[x0 | x, t]`` with the
shape of ``x`` (``(..., D)``); for an ensemble (e.g. :class:`gtv_symbolic.linear.LinearDenoiser`
with ``N`` models) ``x`` carries a leading model axis ``(N, ..., D)`` and all ``N`` models
are integrated at once. The score is ``s = (alpha_t mu - x) / sigma_t^2`` (Tweedie, 1.4) and
the denoiser is always evaluated exactly at the current positions (the paper's code read it
off a 200-point grid by nearest-right-neighbour lookup, which left spikes in its figures).

* PF-ODE ``dx/dt = -beta_t x - D_t s(x, t)`` from ``t = T`` to ``eps`` on the paper's grid
  ``t_k = linspace(eps, T, N+1)`` reversed; Euler step (the paper's ``sample_PF_ODE_*``)
  ``x <- x - (beta_k x + D_k s(x, t_k)) (t_{k+1} - t_k)``, or Heun (2nd order);
* reverse SDE ``dx = [-beta x - 2 D s] dt + sqrt(2 D) dW`` (Euler-Maruyama, same grid);
* :func:`pushforward_1d`: the law of the *discrete* 1-D sampler's output
  ``x_eps = Phi(x_T)``, ``x_T ~ N(0, sigma_T^2)``, computed without random samples: seeds on
  a lattice are pushed through ``Phi`` (exact evaluation, exact derivative ``Phi'`` by the
  chain rule), the lattice is refined adaptively where ``Phi`` is steep or folds, and each
  segment's exact Gaussian mass is spread over its image (change of variables
  ``q(y) = sum_{x: Phi(x)=y} p_T(x)/|Phi'(x)|``). Agreement with Monte Carlo histograms of
  actual samples is tested;
* :func:`ode_log_density`: the continuous-time learned density by the instantaneous change
  of variables ``log q_eps(x) = log p_T(x_T) + int_eps^T div_x v(x_t, t) dt`` with
  ``v = -beta x - D s`` and the exact divergence
  ``div v = -beta D_dim - D (alpha div mu - D_dim)/sigma^2`` (``div mu`` from the features'
  exact x-derivatives), integrated backwards with RK4.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ._validate import check_schedule, int_arg
from .data import as_data
from .proxy import posterior_covariance, posterior_mean
from .schedules import Schedule

__all__ = ["time_grid", "pf_ode_drift", "integrate_pf_ode", "initial_samples", "sample_pf_ode",
           "sample_reverse_sde", "ExactDenoiser", "exact_denoiser", "pushforward_1d",
           "ode_log_density", "histogram_masses", "METHODS"]

METHODS = ("euler", "heun")
#: Largest lattice / sample batch held at once (float64 elements per coordinate).
MAX_POINTS = 2**26


# ----------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------




def time_grid(eps: float, T: float = 1.0, n_steps: int = 30) -> np.ndarray:
    """The paper's sampling grid ``linspace(eps, T, n_steps + 1)`` reversed (T down to eps)."""
    T = float(T)
    eps = float(eps)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be finite and > 0, got {T}")
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps}")
    n_steps = int_arg(n_steps, "n_steps", 1)
    return np.linspace(eps, T, n_steps + 1)[::-1].copy()


def _grid(schedule, eps, T, n_steps, grid):
    check_schedule(schedule)
    if grid is None:
        g = time_grid(eps, T, n_steps)
    else:
        g = np.asarray(grid, dtype=float)
        if g.ndim != 1 or g.size < 2 or np.any(np.diff(g) >= 0):
            raise ValueError("grid must be a strictly decreasing 1-D array of >= 2 times")
    schedule.validate_t(g, "time grid")
    return g


# ----------------------------------------------------------------------------------------
# Exact (Bayes) denoiser
# ----------------------------------------------------------------------------------------
class ExactDenoiser:
    """The Bayes denoiser ``m(x, t) = E[x0 | x, t]`` of a point-mass data set (Tweedie score).

    ``jacobian`` is ``dm/dx = alpha_t Sigma_post / sigma_t^2`` (differentiate the softmax
    weights); evaluation uses :mod:`gtv_symbolic.proxy` (log-sum-exp, exact at any point).
    Accepts any leading batch axes, including a model axis.
    """

    def __init__(self, data, schedule: Schedule):
        check_schedule(schedule)
        self.data = as_data(data)
        self.schedule = schedule
        self.dim = self.data.shape[1]
        self.n_models = None

    def __call__(self, x, t):
        return posterior_mean(x, t, self.data, self.schedule)

    def jacobian(self, x, t):
        a = np.asarray(self.schedule.alpha(t))
        s2 = np.asarray(self.schedule.sigma2(t))
        c = posterior_covariance(x, t, self.data, self.schedule)
        return (a / s2)[..., None, None] * c

    def value_and_jacobian(self, x, t):
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)


def exact_denoiser(data, schedule: Schedule) -> ExactDenoiser:
    """Shorthand for :class:`ExactDenoiser` (the 'true score' of the figures' gray curves)."""
    return ExactDenoiser(data, schedule)


# ----------------------------------------------------------------------------------------
# PF-ODE / SDE integration
# ----------------------------------------------------------------------------------------
def pf_ode_drift(denoiser, x, t: float, schedule: Schedule) -> np.ndarray:
    """``v(x, t) = -beta_t x - D_t s(x, t)`` with ``s = (alpha_t mu(x, t) - x)/sigma_t^2`` (1.5)."""
    b, Dc = float(schedule.beta(t)), float(schedule.D(t))
    a, s2 = float(schedule.alpha(t)), float(schedule.sigma2(t))
    return -b * x - Dc * (a * denoiser(x, t) - x) / s2


def _drift_and_jac(denoiser, x, t, schedule):
    """``v(x, t)`` and ``dv/dx = -beta I - D (alpha dmu/dx - I)/sigma^2`` (shape ``(..., D, D)``)."""
    b, Dc = float(schedule.beta(t)), float(schedule.D(t))
    a, s2 = float(schedule.alpha(t)), float(schedule.sigma2(t))
    mu, J = denoiser.value_and_jacobian(x, t)
    eye = np.eye(x.shape[-1])
    return -b * x - Dc * (a * mu - x) / s2, -b * eye - Dc * (a * J - eye) / s2


def integrate_pf_ode(denoiser, x_T, schedule: Schedule, *, eps: float, T: float = 1.0,
                     n_steps: int = 30, method: str = "euler", grid=None,
                     jacobian: bool = False):
    r"""Integrate the PF-ODE from ``x_T`` at ``t = T`` down to ``eps``; returns ``x_eps``.

    ``method='euler'`` is the paper's update ``x <- x - (beta_k x + D_k s(x, t_k))(t_{k+1}-t_k)``
    on ``grid`` (default :func:`time_grid`); ``'heun'`` is the explicit trapezoidal rule
    (second order), for showing the discretisation error of the 30-step grid.

    With ``jacobian=True`` also returns the exact derivative of the discrete map,
    ``d x_eps / d x_T`` (shape ``(..., D, D)``), propagated step by step with the chain rule
    (needs ``denoiser.value_and_jacobian``).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    g = _grid(schedule, eps, T, n_steps, grid)
    x = np.array(x_T, dtype=float, copy=True)
    if jacobian:
        J = np.broadcast_to(np.eye(x.shape[-1]), x.shape + (x.shape[-1],)).copy()
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]  # negative
        if not jacobian:
            f0 = pf_ode_drift(denoiser, x, g[k], schedule)
            if method == "euler":
                x = x + h * f0
            else:
                x1 = x + h * f0
                x = x + 0.5 * h * (f0 + pf_ode_drift(denoiser, x1, g[k + 1], schedule))
            continue
        f0, A0 = _drift_and_jac(denoiser, x, g[k], schedule)
        if method == "euler":
            x, J = x + h * f0, J + h * (A0 @ J)
        else:
            x1, J1 = x + h * f0, J + h * (A0 @ J)
            f1, A1 = _drift_and_jac(denoiser, x1, g[k + 1], schedule)
            x, J = x + 0.5 * h * (f0 + f1), J + 0.5 * h * (A0 @ J + A1 @ J1)
    return (x, J) if jacobian else x


def initial_samples(schedule: Schedule, *, n_samples: int, dim: int, T: float = 1.0,
                    rng: np.random.Generator, n_models: int | None = None) -> np.ndarray:
    """``x_T ~ N(0, sigma_T^2 I)``; shape ``(n_models, n_samples, dim)`` (or without model axis)."""
    check_schedule(schedule)
    n_samples = int_arg(n_samples, "n_samples", 1)
    dim = int_arg(dim, "dim", 1)
    shape = (n_samples, dim) if n_models is None else (int_arg(n_models, "n_models", 1),
                                                       n_samples, dim)
    if np.prod(shape) > MAX_POINTS:
        raise ValueError(f"n_models * n_samples * dim = {np.prod(shape)} exceeds {MAX_POINTS}; "
                         f"sample in batches")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    return np.sqrt(float(schedule.sigma2(T))) * rng.standard_normal(shape)


def sample_pf_ode(denoiser, schedule: Schedule, *, n_samples: int, eps: float, T: float = 1.0,
                  n_steps: int = 30, method: str = "euler", rng: np.random.Generator,
                  dim: int | None = None, n_models: int | None = None,
                  batch: int = 2**15) -> np.ndarray:
    """Draw PF-ODE samples: ``x_T ~ N(0, sigma_T^2 I)`` then :func:`integrate_pf_ode`.

    For an ensemble denoiser (``denoiser.n_models = N``) returns ``(N, n_samples, D)``, else
    ``(n_samples, D)``. Points are integrated in batches of ``batch`` per model (bounded
    memory); the seeds are drawn up front so the output does not depend on ``batch``.
    """
    dim = dim if dim is not None else getattr(denoiser, "dim", None)
    if dim is None:
        raise ValueError("dim must be given for a denoiser without a .dim attribute")
    n_models = n_models if n_models is not None else getattr(denoiser, "n_models", None)
    time_grid(eps, T, n_steps)  # validate before drawing
    x = initial_samples(schedule, n_samples=n_samples, dim=dim, T=T, rng=rng, n_models=n_models)
    batch = int_arg(batch, "batch", 1)
    out = np.empty_like(x)
    for s in range(0, n_samples, batch):
        sl = (slice(None), slice(s, s + batch)) if n_models is not None else (slice(s, s + batch),)
        out[sl] = integrate_pf_ode(denoiser, x[sl], schedule, eps=eps, T=T, n_steps=n_steps,
                                   method=method)
    return out


def sample_reverse_sde(denoiser, schedule: Schedule, *, n_samples: int, eps: float,
                       T: float = 1.0, n_steps: int = 30, rng: np.random.Generator,
                       dim: int | None = None, n_models: int | None = None) -> np.ndarray:
    r"""Reverse-SDE samples (Euler-Maruyama on :func:`time_grid`):

    ``x <- x - (beta_k x + 2 D_k s(x, t_k)) h_k + sqrt(2 D_k |h_k|) z_k``, ``h_k = t_{k+1} - t_k``.
    With the exact score and small steps the output law is ``p(x | eps)``.
    """
    dim = dim if dim is not None else getattr(denoiser, "dim", None)
    if dim is None:
        raise ValueError("dim must be given for a denoiser without a .dim attribute")
    n_models = n_models if n_models is not None else getattr(denoiser, "n_models", None)
    g = _grid(schedule, eps, T, n_steps, None)
    x = initial_samples(schedule, n_samples=n_samples, dim=dim, T=T, rng=rng, n_models=n_models)
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        b, Dc = float(schedule.beta(g[k])), float(schedule.D(g[k]))
        a, s2 = float(schedule.alpha(g[k])), float(schedule.sigma2(g[k]))
        s = (a * denoiser(x, g[k]) - x) / s2
        x = x - (b * x + 2 * Dc * s) * h + np.sqrt(2 * Dc * abs(h)) * rng.standard_normal(x.shape)
    return x


# ----------------------------------------------------------------------------------------
# Histograms
# ----------------------------------------------------------------------------------------
def _check_edges(edges, name="edges"):
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise ValueError(f"{name} must be a finite 1-D array of >= 2 bin edges")
    d = np.diff(e)
    if not np.allclose(d, d[0], rtol=1e-9, atol=0) or d[0] <= 0:
        raise ValueError(f"{name} must be increasing and equally spaced")
    return e


def histogram_masses(samples, edges) -> np.ndarray:
    """Fraction of samples per bin (not renormalised to the range): ``(..., n_bins[, n_bins_y])``.

    ``samples`` has shape ``(..., n, D)`` with D = 1 (``edges`` one array) or D = 2
    (``edges = (edges_x, edges_y)``); leading axes (models) are kept.
    """
    x = np.asarray(samples, dtype=float)
    D = x.shape[-1]
    lead = x.shape[:-2]
    n = x.shape[-2]
    xs = x.reshape(-1, n, D)
    if D == 1:
        e = _check_edges(edges)
        out = np.stack([np.histogram(v[:, 0], bins=e)[0] for v in xs]) / n
        return out.reshape(lead + (e.size - 1,))
    ex, ey = (_check_edges(edges[0], "edges_x"), _check_edges(edges[1], "edges_y"))
    out = np.stack([np.histogram2d(v[:, 0], v[:, 1], bins=(ex, ey))[0] for v in xs]) / n
    return out.reshape(lead + (ex.size - 1, ey.size - 1))


# ----------------------------------------------------------------------------------------
# Sample-free transport of the discrete sampler
# ----------------------------------------------------------------------------------------
def _spread_segments(a, b, m, model, n_models, edges):
    """Bin masses of uniform laws on ``[min(a,b), max(a,b)]`` with masses ``m``.

    Flat arrays ``a, b, m, model`` (one entry per segment); returns ``(n_models, n_bins)``.
    Each segment's mass goes to the bins it overlaps in proportion to the overlap (partial
    end bins directly, the full bins in between through a difference array); a segment of
    zero length is a point mass.
    """
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    e0, de = edges[0], edges[1] - edges[0]
    nb = edges.size - 1
    size = n_models * (nb + 1)
    width = (hi - lo) / de
    ul = np.clip((lo - e0) / de, 0.0, nb)
    uh = np.clip((hi - e0) / de, 0.0, nb)
    rows = model * (nb + 1)
    point = width == 0
    il = np.minimum(np.floor(ul).astype(np.intp), nb - 1)
    ih = np.minimum(np.floor(uh).astype(np.intp), nb - 1)
    inb = point & (ul > 0) & (ul < nb)
    acc = np.zeros(size)  # (bincount returns int64 for an empty selection)
    acc += np.bincount((rows + il)[inb], weights=m[inb], minlength=size)
    seg = ~point & (uh > ul)
    dens = np.where(seg, m / np.where(point, 1.0, width), 0.0)  # mass per unit bin
    same = seg & (il == ih)
    acc += np.bincount((rows + il)[same], weights=(dens * (uh - ul))[same], minlength=size)
    multi = seg & (ih > il)
    acc += np.bincount((rows + il)[multi], weights=(dens * (il + 1 - ul))[multi], minlength=size)
    acc += np.bincount((rows + ih)[multi], weights=(dens * (uh - ih))[multi], minlength=size)
    full = multi & (ih > il + 1)
    diff = np.zeros(size)
    diff += np.bincount((rows + il + 1)[full], weights=dens[full], minlength=size)
    diff -= np.bincount((rows + ih)[full], weights=dens[full], minlength=size)
    out = acc.reshape(n_models, nb + 1) + np.cumsum(diff.reshape(n_models, nb + 1), axis=1)
    return out[:, :nb]


def _hermite_pieces(za, zb, ya, yb, da, db, model, k):
    """Split accepted segments into ``k`` pieces along their cubic Hermite interpolant.

    The image of each piece uses the cubic through the exact end values and derivatives
    (error O(h^4) instead of the chord's O(h^2)); its mass is the exact Gaussian mass of the
    piece's seed interval.
    """
    s = np.linspace(0.0, 1.0, k + 1)
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    dz = (zb - za)[:, None]
    y = ya[:, None] * h00 + yb[:, None] * h01 + dz * (da[:, None] * h10 + db[:, None] * h11)
    z = za[:, None] + dz * s
    mass = np.diff(ndtr(z), axis=1)
    return (y[:, :-1].ravel(), y[:, 1:].ravel(), mass.ravel(), np.repeat(model, k))


def _push_points(denoiser, pts, model, n_models, schedule, kw, jacobian=False):
    """Push seeds ``pts (n, D)`` of models ``model (n,)`` through the sampler map.

    Ensembles with a ``per_point`` view (linear models) integrate the ragged batch directly;
    other ensembles are grouped per model and padded to a common count.
    """
    if n_models is None:
        return integrate_pf_ode(denoiser, pts, schedule, jacobian=jacobian, **kw)
    if hasattr(denoiser, "per_point"):
        return integrate_pf_ode(denoiser.per_point(model), pts, schedule, jacobian=jacobian,
                                **kw)
    counts = np.bincount(model, minlength=n_models)
    cmax = int(counts.max()) if counts.size else 0
    order = np.argsort(model, kind="stable")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(pts.shape[0]) - start[model[order]]
    buf = np.zeros((n_models, cmax, pts.shape[1]))
    buf[model[order], slot] = pts[order]
    res = integrate_pf_ode(denoiser, buf, schedule, jacobian=jacobian, **kw)
    if not jacobian:
        out = np.empty_like(pts)
        out[order] = res[model[order], slot]
        return out
    out = np.empty_like(pts)
    jac = np.empty(pts.shape + (pts.shape[1],))
    out[order] = res[0][model[order], slot]
    jac[order] = res[1][model[order], slot]
    return out, jac


def pushforward_1d(denoiser, schedule: Schedule, edges, *, eps: float, T: float = 1.0,
                   n_steps: int = 30, method: str = "euler", n_nodes: int = 1024,
                   half_width: float = 8.0, tol: float = 0.25, max_rounds: int = 40,
                   min_mass: float = 1e-6, pieces: int = 8) -> np.ndarray:
    r"""Bin masses of the 1-D discrete sampler's output law, without random samples.

    Seeds ``x_T`` on a uniform lattice over ``[-half_width, half_width] sigma_T`` (``n_nodes``
    points) are pushed through the sampler map ``Phi`` (:func:`integrate_pf_ode`, exact
    denoiser evaluation). Between neighbouring seeds ``Phi`` is replaced by its linear
    interpolant, so the segment ``[x_j, x_{j+1}]`` with exact Gaussian mass
    ``m_j = Phi_N(x_{j+1}/sigma_T) - Phi_N(x_j/sigma_T)`` lands uniformly on
    ``[Phi(x_j), Phi(x_{j+1})]``: the change of variables
    ``q(y) = sum_{x: Phi(x) = y} p_T(x) / |Phi'(x)|`` of the piecewise-linear map (folds of a
    non-monotone ``Phi`` are summed over automatically).

    Adaptive bisection with exact derivatives: the derivative ``Phi'`` of the discrete map
    is propagated with each seed (chain rule through the steps, using the features' exact
    x-derivatives). Every segment's midpoint is evaluated exactly; the segment is accepted
    (as its two halves) when the cubic Hermite interpolant of the end values and slopes
    predicts the midpoint value within ``tol/4`` bins and the midpoint slope within ``tol``
    bins over the half-length, and either neither half contains a fold or the whole image
    is within ``tol`` bins. Otherwise both halves go to the next round (up to
    ``max_rounds``); segments with mass below ``min_mass`` are accepted as they are.
    Accepted segments are deposited as ``pieces`` sub-pieces along their cubic Hermite
    interpolant (so the density varies correctly along the image), each with its exact
    Gaussian mass. This resolves the steep parts and folds of ``Phi`` (separatrices
    between modes; a noisy learned model folds many times). The mass outside
    ``half_width`` sigmas (``~1e-15`` at 8) is dropped.

    Returns masses per bin of ``edges`` (not renormalised), shape ``(N, n_bins)`` for an
    ensemble denoiser or ``(n_bins,)``.
    """
    e = _check_edges(edges)
    n_nodes = int_arg(n_nodes, "n_nodes", 3, MAX_POINTS)
    max_rounds = int_arg(max_rounds, "max_rounds", 0)
    tol = float(tol)
    if getattr(denoiser, "dim", 1) != 1:
        raise ValueError("pushforward_1d needs a denoiser for D = 1")
    n_models = getattr(denoiser, "n_models", None)
    nm = 1 if n_models is None else n_models
    sT = float(np.sqrt(schedule.sigma2(T)))
    kw = dict(eps=eps, T=T, n_steps=n_steps, method=method)
    z = np.linspace(-half_width, half_width, n_nodes)
    xs = z * sT
    seeds = np.broadcast_to(xs[:, None], (n_nodes, 1))
    if n_models is not None:
        seeds = np.broadcast_to(seeds, (nm, n_nodes, 1))
    y, dy = integrate_pf_ode(denoiser, seeds, schedule, jacobian=True, **kw)
    y, dy = y.reshape(nm, n_nodes), dy.reshape(nm, n_nodes) * sT  # d/dz
    model = np.repeat(np.arange(nm), n_nodes - 1)
    za, zb = np.tile(z[:-1], nm), np.tile(z[1:], nm)
    ya, yb = y[:, :-1].ravel(), y[:, 1:].ravel()
    da, db = dy[:, :-1].ravel(), dy[:, 1:].ravel()
    de = e[1] - e[0]
    done = []
    for rnd in range(max_rounds + 1):
        # every segment is checked at its exactly evaluated midpoint (catches wiggles the
        # end points cannot see); the halves are the new segments
        mass = ndtr(zb) - ndtr(za)
        tiny = (mass <= min_mass) | (rnd == max_rounds)
        done.append(_hermite_pieces(za[tiny], zb[tiny], ya[tiny], yb[tiny], da[tiny], db[tiny],
                                    model[tiny], pieces))
        keep = ~tiny
        if not keep.any():
            break
        za, zb, ya, yb, da, db, model = (a[keep] for a in (za, zb, ya, yb, da, db, model))
        zm = (za + zb) / 2
        ym, dm = _push_points(denoiser, (zm * sT)[:, None], model, n_models, schedule, kw,
                              jacobian=True)
        ym, dm = ym[:, 0], dm[:, 0, 0] * sT
        dz = zb - za
        # cubic Hermite prediction of the midpoint value and slope from the end data
        hm = (ya + yb) / 2 + dz * (da - db) / 8
        hdm = 1.5 * (yb - ya) / dz - (da + db) / 4
        ok = ((np.abs(hm - ym) <= tol * de / 4) & (np.abs(hdm - dm) * dz / 2 <= tol * de)
              & ((np.maximum(np.abs(da), np.abs(db)) * dz <= tol * de)  # image within tol bins
                 | ((da * (ym - ya) >= 0) & (dm * (ym - ya) >= 0)  # or no fold in either half
                    & (dm * (yb - ym) >= 0) & (db * (yb - ym) >= 0))))
        for lo_z, hi_z, lo_y, hi_y, lo_d, hi_d in ((za, zm, ya, ym, da, dm),
                                                   (zm, zb, ym, yb, dm, db)):
            done.append(_hermite_pieces(lo_z[ok], hi_z[ok], lo_y[ok], hi_y[ok], lo_d[ok],
                                        hi_d[ok], model[ok], pieces))
        bad = ~ok
        za, zb = np.concatenate([za[bad], zm[bad]]), np.concatenate([zm[bad], zb[bad]])
        ya, yb = np.concatenate([ya[bad], ym[bad]]), np.concatenate([ym[bad], yb[bad]])
        da, db = np.concatenate([da[bad], dm[bad]]), np.concatenate([dm[bad], db[bad]])
        model = np.concatenate([model[bad], model[bad]])
        if za.size == 0:
            break
    a, b, m, mod = (np.concatenate(c) for c in zip(*done, strict=True))
    out = _spread_segments(a, b, m, mod, nm, e)
    return out if n_models is not None else out[0]


# ----------------------------------------------------------------------------------------
# Continuous-time density: instantaneous change of variables
# ----------------------------------------------------------------------------------------
def ode_log_density(denoiser, x, schedule: Schedule, *, eps: float, T: float = 1.0,
                    n_steps: int = 200) -> np.ndarray:
    r"""``log q_eps(x)`` of the continuous PF-ODE with the given denoiser (exact divergence).

    Integrates ``(x_t, ell_t)`` backwards from ``t = eps`` to ``T`` with classical RK4 on a
    uniform grid of ``n_steps`` steps, where ``dx/dt = v(x, t) = -beta x - D s`` and
    ``d ell/dt = div_x v = -beta D_dim - D (alpha div mu - D_dim) / sigma^2``; then
    ``log q_eps(x) = log N(x_T; 0, sigma_T^2 I) + ell_T`` (Liouville). The divergence uses
    ``denoiser.divergence`` (exact feature derivatives for linear models, ``alpha
    tr Sigma_post / sigma^2`` for the Bayes denoiser). For the exact denoiser and enough
    steps this equals ``log p(x | eps)`` (tested).

    ``x`` has shape ``(..., D)`` (with a leading model axis for ensembles); returns ``(...)``.
    """
    if not hasattr(denoiser, "divergence"):
        raise TypeError("the denoiser must provide .divergence(x, t) (exact d mu/dx trace)")
    check_schedule(schedule)
    g = time_grid(eps, T, n_steps)[::-1]  # increasing: eps -> T
    x = np.array(x, dtype=float, copy=True)
    D = x.shape[-1]

    def rhs(xc, tc):
        b, Dc = float(schedule.beta(tc)), float(schedule.D(tc))
        a, s2 = float(schedule.alpha(tc)), float(schedule.sigma2(tc))
        v = -b * xc - Dc * (a * denoiser(xc, tc) - xc) / s2
        div = -b * D - Dc * (a * denoiser.divergence(xc, tc) - D) / s2
        return v, div

    ell = np.zeros(x.shape[:-1])
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        tm = g[k] + h / 2
        v1, d1 = rhs(x, g[k])
        v2, d2 = rhs(x + h / 2 * v1, tm)
        v3, d3 = rhs(x + h / 2 * v2, tm)
        v4, d4 = rhs(x + h * v3, g[k + 1])
        x = x + h / 6 * (v1 + 2 * v2 + 2 * v3 + v4)
        ell = ell + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
    s2T = float(schedule.sigma2(T))
    logp_T = -0.5 * np.sum(x**2, axis=-1) / s2T - 0.5 * D * np.log(2 * np.pi * s2T)
    return logp_T + ell
