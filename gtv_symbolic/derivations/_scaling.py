"""Leading-order checks of many entries at once (shared by the Prop. 3.1-5.2 derivations)."""

from __future__ import annotations

import numpy as np

from .. import derive

__all__ = ["compare_scaling_all"]


def compare_scaling_all(sizes, ratios, ratio_se, *, what: str, k: float = 5.0):
    """:func:`gtv_symbolic.derive.compare_scaling` for each entry; passes iff every entry does.

    ``ratios`` and ``ratio_se`` have shape ``(len(sizes), n_entries)``; the detail is that of
    the entry with the largest ``|ratio - 1| / s.e.`` at the largest size.
    """
    r = np.asarray(ratios, dtype=float)
    se = np.asarray(ratio_se, dtype=float)
    if r.ndim != 2 or r.shape != se.shape or r.shape[0] != len(sizes):
        raise ValueError(f"ratios and ratio_se must have shape (len(sizes), n), got {r.shape}, "
                         f"{se.shape}")
    res = [derive.compare_scaling(sizes, r[:, j], se[:, j], what=what, k=k)
           for j in range(r.shape[1])]
    z = np.abs(r[-1] - 1) / np.maximum(se[-1], 1e-300)
    worst = int(np.argmax(z))
    ok = all(x.ok for x in res)
    return derive.CheckResult(ok, f"{res[worst].detail} (the worst of {r.shape[1]} entries; "
                                  f"{sum(x.ok for x in res)}/{r.shape[1]} pass)",
                              res[worst].residual)
