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
    r"""Train ``N`` models from a common :math:`\theta_0` by full-batch gradient descent (module formula).

    .. math:: \theta \leftarrow \theta - \eta_{\mathrm{eff}} \nabla_\theta L_n(\theta), \qquad
              L_n = \frac{1}{2P}\sum_i \lambda_i |\mu_\theta(x_i, t_i) - y_i|^2

    for ``steps`` steps, all models at once (``jax.vmap`` in one ``jit``), in chunks of ``chunk``.

    Parameters
    ----------
    net : MLP
    theta0 : array_like, shape (p,)
    x, y : array_like, shape (N, P, D)
        Noisy inputs and targets.
    t, lam : array_like, shape (N, P)
        Times and loss weights :math:`\lambda_i`.
    steps : int
        1 to ``MAX_STEPS``.
    lr : float
        Nominal step ``> 0`` (:meth:`MLP.effective_lr` gives :math:`\eta_{\mathrm{eff}}`).
    chunk : int, default 25
        Models per compiled call.

    Returns
    -------
    tuple
        ``(theta, loss)``: shapes ``(N, p)`` and ``(N,)`` (final loss).

    Raises
    ------
    FloatingPointError
        If training diverges.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp, train
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> y = np.array([[[1.0], [-1.0]]])
    >>> theta, loss = train.fit(net, theta0, x[None], t[None], y, np.ones((1, 2)), steps=10, lr=0.1)
    >>> theta.shape, bool(loss[0] < 0.5)  # the loss starts at 0.5 (mu_theta0 = 0)
    ((1, 48), True)
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
    r"""Largest eigenvalue of the weighted parameter Gram matrix (the gradient-descent stability scale).

    .. math:: \hat G = \frac1P \sum_{i=1}^P \lambda_i J_i^\top J_i, \qquad
              \mu_{\max}(\hat G) = \mu_{\max}\bigl(\mathrm{diag}(w)\, J J^\top \mathrm{diag}(w)\bigr),
              \quad w = \sqrt{\lambda / P},

    computed on the :math:`P \times P` dual (closed-form NTK for ``D = 1``).

    Parameters
    ----------
    net : MLP
    theta : array_like, shape (p,)
    x : array_like, shape (P, D)
    t, lam : array_like, shape (P,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp, train
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> J = mlp.jacobian(net, theta0, x, t)[:, 0, :]
    >>> mu = train.gram_top_eigenvalue(net, theta0, x, t, np.ones(2))
    >>> bool(np.isclose(mu, np.linalg.eigvalsh(J.T @ J / 2)[-1]))
    True
    """
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
    r"""Train ``n_models`` networks, each on its own DSM training set (paper Sec. 5; module formula).

    Model :math:`n` draws its :math:`P` triples from stream ``n``, then :func:`fit` runs
    ``steps`` steps from a common :math:`\theta_0`, so :math:`\tau = \mathrm{steps}\cdot\eta_{\mathrm{eff}}`.
    Before training the step is checked against

    .. math:: \eta_{\mathrm{eff}}\, \mu_{\max}(\hat G) < 2

    (:func:`gram_top_eigenvalue`); with ``max_lr_mu`` the step is lowered to
    :math:`\min(\eta_{\mathrm{eff}}, \texttt{max\_lr\_mu}/\mu_{\max})` instead.

    Parameters
    ----------
    net : MLP
    data : array_like, shape (M, D)
        Training points, ``D = net.dim``.
    schedule : Schedule
    P, n_models, steps : int
        Training samples per model (1 to ``training.MAX_TRAIN``), models (1 to 100000), steps.
    lr : float
        Nominal step ``> 0``.
    rng : numpy.random.Generator
    target : {'proxy', 'true'}, default 'proxy'
        J1 (proxy) or J0 (exact posterior mean).
    n_draws : int or None, default 1
        With ``'proxy'``: average of ``M`` posterior draws (``None``: the exact mean).
    theta0 : array_like, shape (p,), optional
        Default :func:`~gtv_symbolic.networks.init_params` from a child stream of ``rng``.
    n_check : int, default 4
        Models whose :math:`\mu_{\max}` is checked (all with ``max_lr_mu``).
    max_lr_mu : float, optional
        In ``(0, 2)``.

    Returns
    -------
    dict
        ``theta (N, p)``, ``theta0 (p,)``, ``loss (N,)``, ``tau``, ``lr_eff``, ``mu_max`` and the
        samples ``x, t, x0, weight, target``.

    Raises
    ------
    ValueError
        Before training, for a bad argument or ``lr_eff * mu_max >= 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.networks import mlp, train
    >>> out = train.train_networks(mlp.MLP(width=8, eps=1e-2), [[-1.0], [1.0]], schedules.VP(),
    ...                            P=2, n_models=1, steps=10, lr=0.1, rng=np.random.default_rng(0))
    >>> out["theta"].shape, out["tau"]
    ((1, 48), 1.0)
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
    r"""Relative change of the empirical NTK during training, per model (lazy vs rich regime).

    .. math:: \frac{\|\Theta_{\theta_n} - \Theta_{\theta_0}\|_F}{\|\Theta_{\theta_0}\|_F},
              \qquad \Theta_\theta = J_\theta J_\theta^\top \text{ on the probe points}

    Parameters
    ----------
    net : MLP
    theta0 : array_like, shape (p,)
    theta : array_like, shape (N, p)
    x : array_like, shape (n, D)
    t : array_like, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp, train
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> train.kernel_change(net, theta0, np.stack([theta0, theta0]), x, t)
    array([0., 0.])
    """
    J0 = jacobian(net, theta0, x, t).reshape(x.shape[0] * net.dim, -1)
    K0 = J0 @ J0.T
    n0 = np.linalg.norm(K0)
    out = np.empty(theta.shape[0])
    for n in range(theta.shape[0]):
        J = jacobian(net, theta[n], x, t).reshape(x.shape[0] * net.dim, -1)
        out[n] = np.linalg.norm(J @ J.T - K0) / n0
    return out
