r"""Ensembles of MLP denoisers trained by full-batch gradient descent on the DSM objective.

Each model ``n`` minimises the denoiser-form DSM loss of the linear models (paper Sec. 2
and Sec. 5; the same ``P`` triples from :func:`gtv_symbolic.training.sample_training_set`,
drawn from stream ``rng.spawn(N)[n]`` exactly as :func:`gtv_symbolic.training.train_ensemble`
draws them):

.. math:: L_n(\theta) = \frac{1}{2P}\sum_{i=1}^P \lambda_i\,|\mu_\theta(x_i, t_i) - y_i|^2,
          \qquad \lambda_i = \alpha_{t_i}^2/\sigma_{t_i}^2,

with targets ``y_i = x0_i`` (J1, proxy), ``E[x0 | x_i, t_i]`` (J0) or an average of ``M``
posterior draws. ``steps`` full-batch steps ``theta <- theta - lr_eff grad L`` (``optax.sgd``)
from a common ``theta_0`` (the lazy theory is a law over training sets for a fixed
initialisation), all ``N`` models at once (``jax.vmap`` over models inside one ``jit``).
The linearised dynamics are the gradient-flow filter ``h_tau`` with ``tau = steps * lr_eff``
(:func:`gtv_symbolic.training.gradient_flow_filter`) up to the step discretisation; the
step is checked against the stability bound ``lr_eff * mu_max(G_hat) < 2`` before training.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validate import int_arg
from ._forward import embed, forward, hidden
from ._jax import jax, jnp, x64
from .mlp import MLP, init_params, jacobian

__all__ = ["train_networks", "fit", "gram_top_eigenvalue", "kernel_change", "MAX_STEPS"]

MAX_STEPS = 10**6


def _loss(net, theta, x, e, y, lam):
    r = forward(net, theta, x, e) - y
    return 0.5 * jnp.mean(lam * jnp.sum(r * r, axis=-1))


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _fit(net, steps, lr, theta0, x, t, y, lam):
    import optax

    opt = optax.sgd(lr)
    e = embed(net, t)

    def one(xm, em, ym, lm):
        grad = jax.grad(lambda th: _loss(net, th, xm, em, ym, lm))

        def body(_, carry):
            th, st = carry
            upd, st = opt.update(grad(th), st)
            return optax.apply_updates(th, upd), st

        th, _ = jax.lax.fori_loop(0, steps, body, (theta0, opt.init(theta0)))
        return th, _loss(net, th, xm, em, ym, lm)

    return jax.vmap(one)(x, e, y, lam)


@x64
def fit(net: MLP, theta0, x, t, y, lam, *, steps: int, lr: float, chunk: int = 25):
    """Train ``N`` models from ``theta0`` on ``x (N,P,D), t (N,P), y (N,P,D), lam (N,P)``.

    Returns ``(theta (N, p), final loss (N,))``; ``lr`` is the nominal step (the mean-field
    case uses ``lr * width``, :meth:`MLP.effective_lr`). Models go through in chunks of
    ``chunk`` (bounded memory).
    """
    steps = int_arg(steps, "steps", 1, MAX_STEPS)
    lr_eff = net.effective_lr(lr)
    th0 = jnp.asarray(theta0, jnp.float64)
    out, loss = [], []
    for s in range(0, x.shape[0], chunk):
        sl = slice(s, s + chunk)
        th, ls = _fit(net, steps, lr_eff, th0, *(jnp.asarray(a[sl], jnp.float64)
                                                  for a in (x, t, y, lam)))
        out.append(np.asarray(th))
        loss.append(np.asarray(ls))
    theta, loss = np.concatenate(out), np.concatenate(loss)
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(loss))):
        raise FloatingPointError(f"training diverged (lr = {lr}, steps = {steps})")
    return theta, loss


def _ntk_1d(net: MLP, theta, x, t) -> np.ndarray:
    r"""Empirical NTK ``J J^T`` of a ``D = 1`` network on ``(x, t)`` in closed form:

    .. math:: \Theta(z, z') = s_H^2 \sum_h \big[u_h u'_h + a_h^2 g_h g'_h
              (\tfrac{\sigma_w^2}{d_{in}} z \cdot z' + \sigma_b^2)\big],

    ``u = tanh(pre)``, ``g = 1 - u^2`` (derivatives of ``a``, then of ``W`` and ``b``)."""

    zt, u, a = hidden(net, np.asarray(theta, float), x, t)
    g = (1 - u**2) * a[:, 0]
    return net.out_scale**2 * (u @ u.T + (g @ g.T) * (zt @ zt.T))


def gram_top_eigenvalue(net: MLP, theta, x, t, lam) -> float:
    r"""Largest eigenvalue of ``G_hat = (1/P) sum_i lam_i J_i^T J_i`` (via the ``P x P`` dual
    ``diag(w) J J^T diag(w)``, ``w = sqrt(lam / P)``; closed-form NTK for ``D = 1``)."""
    if net.dim == 1:
        K0 = _ntk_1d(net, theta, np.asarray(x, float).reshape(-1, 1),
                     np.broadcast_to(np.asarray(t, float), (x.shape[0],)))
    else:
        J = jacobian(net, theta, x, t).reshape(x.shape[0] * net.dim, -1)
        K0 = J @ J.T
    w = np.repeat(np.sqrt(lam / x.shape[0]), net.dim)
    return float(np.linalg.eigvalsh(K0 * np.outer(w, w))[-1])


def train_networks(net: MLP, data, schedule, *, P: int, n_models: int, steps: int, lr: float,
                   rng: np.random.Generator, target: str = "proxy", n_draws: int | None = 1,
                   theta0=None, n_check: int = 4, max_lr_mu: float | None = None) -> dict:
    r"""Train ``n_models`` networks on their own DSM training sets; returns a dict.

    Keys: ``theta (N, p)``, ``theta0 (p,)``, ``loss (N,)``, ``tau`` (= steps * lr_eff),
    ``lr_eff`` (the step used), ``mu_max`` (largest ``G_hat`` eigenvalue over the first
    ``n_check`` models at ``theta0``, over all models with ``max_lr_mu``) and the samples
    ``x, t, x0, weight, target``. ``target='proxy'`` with
    ``n_draws = M`` uses the average of ``M`` posterior draws
    (:func:`gtv_symbolic.experiments.target_variance.averaged_targets`; ``M = 1`` is the
    proxy target itself, ``None`` the exact posterior mean, the same as ``target='true'``).
    ``theta0`` defaults to :func:`init_params` from a child stream of ``rng``.

    Raises ValueError, before training, if ``lr_eff * mu_max >= 2`` (gradient descent
    would diverge). With ``max_lr_mu`` in ``(0, 2)`` the step is instead lowered to
    ``min(lr_eff, max_lr_mu / mu_max)`` (one step for all models, so ``tau`` is common): the
    weight ``lam = alpha^2 / sigma^2`` reaches ``1/eps``, so at small ``eps`` a training set
    with a sample near ``t = eps`` has a large ``mu_max``.
    """
    from .. import training
    from ..data import as_data
    from ..experiments.target_variance import averaged_targets

    if target not in training.TARGETS:
        raise ValueError(f"target must be one of {training.TARGETS}, got {target!r}")
    mu = as_data(data)
    if mu.shape[1] != net.dim:
        raise ValueError(f"data has D = {mu.shape[1]} but the network has dim = {net.dim}")
    n_models = int_arg(n_models, "n_models", 1, 100_000)
    P = int_arg(P, "P", 1, training.MAX_TRAIN)
    int_arg(steps, "steps", 1, MAX_STEPS)
    lr_eff = net.effective_lr(lr)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    data_rng, init_rng, target_rng = rng.spawn(3)
    draws = [training.sample_training_set(mu, schedule, P=P, eps=net.eps, T=net.T, rng=g)
             for g in data_rng.spawn(n_models)]
    x, t, w, x0 = (np.stack([d[k] for d in draws]) for k in ("x", "t", "weight", "x0"))
    y = averaged_targets(x0, x, t, mu, schedule, None if target == "true" else n_draws,
                         target_rng)
    theta0 = init_params(net, init_rng) if theta0 is None else np.asarray(theta0, float)
    if theta0.shape != (net.n_params,):
        raise ValueError(f"theta0 must have shape ({net.n_params},), got {theta0.shape}")
    n_check = n_models if max_lr_mu is not None else min(n_check, n_models)
    mu_max = max(gram_top_eigenvalue(net, theta0, x[k], t[k], w[k]) for k in range(n_check))
    if max_lr_mu is not None:
        if not 0 < max_lr_mu < 2:
            raise ValueError(f"max_lr_mu must lie in (0, 2), got {max_lr_mu}")
        lr = min(lr, max_lr_mu / mu_max / (lr_eff / lr))
        lr_eff = net.effective_lr(lr)
    if lr_eff * mu_max >= 2:
        raise ValueError(f"lr = {lr} is too large: lr_eff * mu_max(G_hat) = "
                         f"{lr_eff * mu_max:.3g} >= 2 (gradient descent diverges); use "
                         f"lr < {2 / mu_max / (lr_eff / lr):.3g}")
    theta, loss = fit(net, theta0, x, t, y, w, steps=steps, lr=lr)
    return {"theta": theta, "theta0": theta0, "loss": loss, "tau": steps * lr_eff,
            "lr_eff": lr_eff, "mu_max": mu_max, "x": x, "t": t, "x0": x0, "weight": w, "target": y}


def kernel_change(net: MLP, theta0, theta, x, t) -> np.ndarray:
    r"""``||Theta_T - Theta_0||_F / ||Theta_0||_F`` on the probe points ``(x, t)``, per model.

    ``Theta = J J^T`` is the empirical NTK on the probe set; ``theta (N, p)``.
    """
    J0 = jacobian(net, theta0, x, t).reshape(x.shape[0] * net.dim, -1)
    K0 = J0 @ J0.T
    n0 = np.linalg.norm(K0)
    out = np.empty(theta.shape[0])
    for n in range(theta.shape[0]):
        J = jacobian(net, theta[n], x, t).reshape(x.shape[0] * net.dim, -1)
        out[n] = np.linalg.norm(J @ J.T - K0) / n0
    return out
