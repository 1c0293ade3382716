r"""``gtv reproduce --check``: compare regenerated outputs with the committed ones, number by number.

Which outputs. Every committed file that carries numbers: tables ``*_table.md``, derivation
documents ``*.md`` / ``*.tex`` and data ``*.npz``; images are not compared.

Tolerances (per output kind; each committed number states its own precision by its digits):

* text (tables, documents): the text between numbers must be identical; a regenerated number
  ``b`` matches the committed ``a`` when

  .. math:: |a - b| \le u(a) + 10^{-10},

  with :math:`u(a)` one unit in the last printed digit of ``a`` (``0.163`` -> 1e-3,
  ``2.5e-04`` -> 1e-5): the same computation rounded on another CPU may move the last printed
  digit by one, never more. The 1e-10 floor treats round-off residuals (``3e-16`` vs
  ``-1e-15``) as the zeros they are.
* arrays (``.npz``): same keys, shapes and dtypes; values within
  ``|a - b| <= 1e-8 |a| + 1e-10 max|a|`` (rounding-level differences of a seeded
  computation; a changed random draw moves values by O(1)).

Examples
--------
>>> compare_text("gap = 0.163 +- 0.010", "gap = 0.164 +- 0.010")
[]
>>> compare_text("gap = 0.163", "gap = 0.166")
['number 1: 0.163 -> 0.166 (tolerance 0.001)']
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["ARRAY_ATOL", "ARRAY_RTOL", "NUMBER_FLOOR", "compare_arrays", "compare_text",
           "compare_trees", "last_digit_unit"]

NUMBER_FLOOR = 1e-10
ARRAY_RTOL = 1e-8
ARRAY_ATOL = 1e-10
#: decimal numbers (not parts of words such as "d01" or "F2"); sign handled by the value
_NUM = re.compile(r"(?<![A-Za-z_0-9.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_0-9])")
_PATTERNS = ("*_table.md", "*.md", "*.tex", "*.npz")


def last_digit_unit(token: str) -> float:
    """One unit in the last printed digit of a number token (``"0.163"`` -> 0.001)."""
    mant, _, exp = token.lower().partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-dec + (int(exp) if exp else 0))


def compare_text(ref: str, new: str, *, floor: float = NUMBER_FLOOR, limit: int = 10) -> list[str]:
    """Differences between two documents: text outside numbers exactly, numbers within tolerance."""
    ra, na = _NUM.split(ref), _NUM.split(new)
    rn, nn = _NUM.findall(ref), _NUM.findall(new)
    if len(rn) != len(nn) or ra != na:
        for k, (a, b) in enumerate(zip(ref.splitlines(), new.splitlines(), strict=False)):
            if _NUM.sub("#", a) != _NUM.sub("#", b):
                return [f"line {k + 1} differs beyond its numbers: {a.strip()[:80]!r} -> "
                        f"{b.strip()[:80]!r}"]
        return [f"documents differ in structure ({len(rn)} vs {len(nn)} numbers, "
                f"{len(ref.splitlines())} vs {len(new.splitlines())} lines)"]
    out = []
    for k, (a, b) in enumerate(zip(rn, nn, strict=True)):
        tol = last_digit_unit(a) + floor
        if abs(float(a) - float(b)) > tol * (1 + 1e-9):
            out.append(f"number {k + 1}: {a} -> {b} (tolerance {tol:.3g})")
            if len(out) >= limit:
                break
    return out


def compare_arrays(ref_path, new_path, *, rtol: float = ARRAY_RTOL, atol: float = ARRAY_ATOL) -> list[str]:
    """Differences between two ``.npz`` files (keys, shapes, dtypes, values within tolerance)."""
    with np.load(ref_path, allow_pickle=False) as fa, np.load(new_path, allow_pickle=False) as fb:
        if sorted(fa.files) != sorted(fb.files):
            return [f"keys differ: {sorted(fa.files)} vs {sorted(fb.files)}"]
        out = []
        for k in sorted(fa.files):
            a, b = fa[k], fb[k]
            if a.shape != b.shape or a.dtype != b.dtype:
                out.append(f"{k}: shape/dtype {a.shape} {a.dtype} -> {b.shape} {b.dtype}")
            elif a.dtype.kind in "fc":
                scale = float(np.max(np.abs(a))) if a.size else 0.0
                bad = ~(np.abs(a - b) <= rtol * np.abs(a) + atol * scale) & ~(np.isnan(a) & np.isnan(b))
                if bad.any():
                    out.append(f"{k}: {int(bad.sum())} of {a.size} values differ (max |diff| "
                               f"{float(np.nanmax(np.abs(a - b))):.3g})")
            elif not np.array_equal(a, b):
                out.append(f"{k}: values differ")
        return out


def compare_trees(pairs, *, require_all: bool = True) -> dict[str, list[str]]:
    """``{file: [differences]}`` over ``pairs = [(committed folder, regenerated folder)]``.

    Every committed file matching the number-carrying patterns must be regenerated (with
    ``require_all=False``, for a subset of the figures, committed files that were not
    regenerated are skipped); files with no differences are listed with an empty list.
    """
    report: dict[str, list[str]] = {}
    for ref_dir, new_dir in pairs:
        ref_dir, new_dir = Path(ref_dir), Path(new_dir)
        seen = set()
        for pat in _PATTERNS:
            for ref in sorted(ref_dir.glob(pat)):
                if ref in seen:
                    continue
                seen.add(ref)
                new = new_dir / ref.name
                if not new.is_file():
                    if require_all:
                        report[str(ref)] = ["not regenerated"]
                elif ref.suffix == ".npz":
                    report[str(ref)] = compare_arrays(ref, new)
                else:
                    report[str(ref)] = compare_text(ref.read_text(), new.read_text())
    return report
