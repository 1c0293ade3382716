"""Numbers in tables: a value with its standard error, a Monte Carlo error ratio with its error."""

from __future__ import annotations

import numpy as np

__all__ = ["pm", "ratio_pm"]


def pm(v, se, digits: int = 3) -> str:
    """``'v ± se'`` at a fixed number of decimals (every table cell of the package).

    No formula: infrastructure (string formatting).

    Parameters
    ----------
    v, se : float
        Value and its standard error (anything :class:`float` accepts).
    digits : int, default 3
        Decimals of both numbers, ``>= 0``.

    Returns
    -------
    str

    Examples
    --------
    >>> pm(0.12345, 0.0061)
    '0.123 ± 0.006'
    >>> pm(2, 0.25, digits=1)
    '2.0 ± 0.2'
    """
    return f"{float(v):.{digits}f} ± {float(se):.{digits}f}"


def ratio_pm(ratio, n_fields, n_models, digits: int = 2) -> str:
    r"""A Monte Carlo error ratio ``se_fields / se_ensemble`` with its approximate standard error.

    Each standard error is a sample standard deviation over ``n`` draws divided by
    ``sqrt(n)``; for near-normal draws the relative error of a sample standard deviation is
    ``1 / sqrt(2 (n - 1))``, so (independent draws)

    .. math:: \frac{\mathrm{se}(r)}{r} \approx \sqrt{\frac{1}{2(n_f - 1)}
              + \frac{1}{2(n_e - 1)}}.

    The reported ratio is the maximum over the gap and mode cells, which this error ignores.

    Parameters
    ----------
    ratio : float
        The ratio ``r``.
    n_fields, n_models : int
        Number of fields (``n_f``) and of trained models (``n_e``); with fewer than 2 of
        either the error is undefined and printed as ``n/a``.
    digits : int, default 2
        Decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> ratio_pm(0.5, 100, 100)
    '0.50 ± 0.05'
    """
    nf, ne = int(n_fields), int(n_models)
    if min(nf, ne) < 2:
        return f"{float(ratio):.{digits}f} ± n/a"
    rel = np.sqrt(1 / (2 * (nf - 1)) + 1 / (2 * (ne - 1)))
    return pm(ratio, float(ratio) * rel, digits)
