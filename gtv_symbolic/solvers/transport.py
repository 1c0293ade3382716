r"""Sample-free law of the 1-D discrete PF-ODE sampler's output (density transport).

The sampler map ``Phi: x_T -> x_eps`` (:func:`~gtv_symbolic.solvers.integrate_pf_ode`) pushes
``x_T ~ N(0, sigma_T^2)`` forward; the output density is the change of variables

.. math::  q(y) = \sum_{x:\,\Phi(x) = y} \frac{p_T(x)}{|\Phi'(x)|},

computed without random samples: seeds on a lattice are pushed through ``Phi`` with its exact
derivative, the lattice is refined adaptively where ``Phi`` is steep or folds, and each segment's
exact Gaussian mass is spread over its image (:func:`~gtv_symbolic.solvers.pushforward_1d`). This is
the law of the samples behind the paper's Fig. 2 histograms, without their Monte Carlo noise;
agreement with histograms of actual samples is tested.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.denoisers import ExactDenoiser
>>> from gtv_symbolic.grids import TimeGrid
>>> grid = TimeGrid.linear(schedules.VP(), eps=1e-2)
>>> m = pushforward_1d(ExactDenoiser([[-1.0], [1.0]], grid.schedule), grid,
...                    np.linspace(-1.5, 1.5, 61), n_nodes=64)
>>> round(float(m.sum()), 6), round(float(m[:30].sum()), 6)
(1.0, 0.5)
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._validate import int_arg
from ..grids import TimeGrid
from ..metrics import check_edges
from .pf_ode import MAX_POINTS, check_grid, integrate_pf_ode

__all__ = ["pushforward_1d"]


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


def _push_points(denoiser, pts, model, n_models, grid, method, jacobian=False):
    """Push seeds ``pts (n, D)`` of models ``model (n,)`` through the sampler map.

    Ensembles with a ``per_point`` view (linear models) integrate the ragged batch directly;
    other ensembles are grouped per model and padded to a common count.
    """
    if n_models is None:
        return integrate_pf_ode(denoiser, pts, grid, method=method, jacobian=jacobian)
    if hasattr(denoiser, "per_point"):
        return integrate_pf_ode(denoiser.per_point(model), pts, grid, method=method,
                                jacobian=jacobian)
    counts = np.bincount(model, minlength=n_models)
    cmax = int(counts.max()) if counts.size else 0
    order = np.argsort(model, kind="stable")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(pts.shape[0]) - start[model[order]]
    buf = np.zeros((n_models, cmax, pts.shape[1]))
    buf[model[order], slot] = pts[order]
    res = integrate_pf_ode(denoiser, buf, grid, method=method, jacobian=jacobian)
    if not jacobian:
        out = np.empty_like(pts)
        out[order] = res[model[order], slot]
        return out
    out = np.empty_like(pts)
    jac = np.empty(pts.shape + (pts.shape[1],))
    out[order] = res[0][model[order], slot]
    jac[order] = res[1][model[order], slot]
    return out, jac


def pushforward_1d(denoiser, grid: TimeGrid, edges, *, method: str = "euler", n_nodes: int = 1024,
                   half_width: float = 8.0, tol: float = 0.25, max_rounds: int = 40,
                   min_mass: float = 1e-6, pieces: int = 8) -> np.ndarray:
    r"""Bin masses of the 1-D discrete sampler's output law, without random samples.

    The Euler/Heun map :math:`\Phi: x_T \mapsto x_\epsilon` (:func:`~gtv_symbolic.solvers.integrate_pf_ode`)
    pushes :math:`x_T \sim \mathcal N(0, \sigma_T^2)` forward (the law behind the paper's Fig. 2
    histograms); the mass of bin :math:`B_j` is the change of variables

    .. math:: q_j = \int_{B_j} \sum_{x:\,\Phi(x) = y} \frac{p_T(x)}{|\Phi'(x)|}\, dy, \qquad
              p_T = \mathcal N(0, \sigma_T^2).

    Seeds on ``n_nodes`` lattice points over :math:`[-w, w]\,\sigma_T` (:math:`w` = ``half_width``)
    are pushed through :math:`\Phi` with its exact derivative. A segment is accepted when the
    cubic Hermite interpolant of its end values and slopes predicts the exactly evaluated midpoint
    value within ``tol/4`` bins and slope within ``tol`` bins, and it has no fold (or its image
    is within ``tol`` bins); otherwise it is bisected (up to ``max_rounds``; segments of mass
    ``<= min_mass`` are accepted). Each accepted segment deposits its exact Gaussian mass
    :math:`\Phi_N(z_b) - \Phi_N(z_a)` in ``pieces`` sub-pieces along the interpolant, so folds of
    a non-monotone :math:`\Phi` are summed over. The mass beyond :math:`w` sigmas is dropped.

    Parameters
    ----------
    denoiser : callable
        Denoiser for ``D = 1`` (an ensemble carries ``n_models``); needs ``value_and_jacobian``.
    grid : TimeGrid
    edges : array_like, shape (n_bins + 1,)
        Uniform, increasing bin edges.
    method : {'euler', 'heun'}, default 'euler'
    n_nodes : int, default 1024
        Initial seeds, 3 to ``MAX_POINTS``.
    half_width : float, default 8.0
        Seed range in units of :math:`\sigma_T`, ``> 0``.
    tol : float, default 0.25
        Accuracy in bins, ``> 0``.
    max_rounds : int, default 40
        Bisection rounds, 0 to 200.
    min_mass : float, default 1e-6
        In ``[0, 1)``.
    pieces : int, default 8
        Sub-pieces per accepted segment, 1 to 1000.

    Returns
    -------
    numpy.ndarray
        Masses per bin (not renormalised), shape ``(n_models, n_bins)`` for an ensemble denoiser,
        else ``(n_bins,)``.

    Raises
    ------
    ValueError
        For an argument out of range or a denoiser with ``dim != 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser
    >>> from gtv_symbolic.grids import TimeGrid
    >>> g = TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2)
    >>> m = pushforward_1d(ExactDenoiser([[-1.0], [1.0]], g.schedule), g, np.linspace(-3, 3, 7),
    ...                    n_nodes=32)
    >>> m.round(3), round(float(m.sum()), 4)
    (array([0.001, 0.134, 0.364, 0.364, 0.134, 0.001]), 1.0)
    """
    check_grid(grid)
    e = check_edges(edges)
    n_nodes = int_arg(n_nodes, "n_nodes", 3, MAX_POINTS)
    max_rounds = int_arg(max_rounds, "max_rounds", 0, 200)
    pieces = int_arg(pieces, "pieces", 1, 1000)
    tol, half_width, min_mass = float(tol), float(half_width), float(min_mass)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0 (bins), got {tol}")
    if not (np.isfinite(half_width) and half_width > 0):
        raise ValueError(f"half_width must be finite and > 0 (sigma_T units), got {half_width}")
    if not (np.isfinite(min_mass) and 0 <= min_mass < 1):
        raise ValueError(f"min_mass must lie in [0, 1), got {min_mass}")
    if getattr(denoiser, "dim", 1) != 1:
        raise ValueError("pushforward_1d needs a denoiser for D = 1")
    n_models = getattr(denoiser, "n_models", None)
    nm = 1 if n_models is None else n_models
    sT = float(np.sqrt(grid.sigma2[0]))
    z = np.linspace(-half_width, half_width, n_nodes)
    xs = z * sT
    seeds = np.broadcast_to(xs[:, None], (n_nodes, 1))
    if n_models is not None:
        seeds = np.broadcast_to(seeds, (nm, n_nodes, 1))
    y, dy = integrate_pf_ode(denoiser, seeds, grid, method=method, jacobian=True)
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
        ym, dm = _push_points(denoiser, (zm * sT)[:, None], model, n_models, grid, method,
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
