"""TimeGrid: the one place eps and T are checked; tabulated coefficients."""

import numpy as np
import pytest

from gtv_symbolic import schedules
from gtv_symbolic.grids import TimeGrid, check_window

VP = schedules.VP()


def test_linear_grid_is_papers():
    g = TimeGrid.linear(VP, 1e-3, 1.0, 30)
    np.testing.assert_array_equal(g.ts, np.linspace(1e-3, 1.0, 31)[::-1])
    assert g.n_steps == 30 and g.eps == 1e-3 and g.T == 1.0
    assert np.all(g.h < 0)
    for name in ("alpha", "sigma2", "beta", "D"):
        ref = np.array([float(getattr(VP, name)(t)) for t in g.ts])
        assert getattr(g, name).tobytes() == ref.tobytes()


def test_geometric_and_reversed():
    g = TimeGrid.make(VP, 1e-4, 1.0, 8, kind="geometric")
    np.testing.assert_allclose(g.ts, np.geomspace(1e-4, 1.0, 9)[::-1])
    r = g.reversed()
    np.testing.assert_array_equal(r.ts, g.ts[::-1])
    np.testing.assert_array_equal(r.D, g.D[::-1])
    with pytest.raises(ValueError, match="kind"):
        TimeGrid.make(VP, 1e-2, 1.0, 8, kind="cubic")


@pytest.mark.parametrize("eps, T, match", [
    (0.0, 1.0, "eps must lie in"), (-1e-3, 1.0, "eps must lie in"), (1.0, 1.0, "eps must lie in"),
    (2.0, 1.0, "eps must lie in"), (np.nan, 1.0, "eps must lie in"),
    (1e-3, 0.0, "T must be finite and > 0"), (1e-3, np.inf, "T must be finite"),
    (1e-3, 2.0, "schedule's T"),
])
def test_window_validation(eps, T, match):
    with pytest.raises(ValueError, match=match):
        check_window(VP, eps, T)
    with pytest.raises(ValueError, match=match):
        TimeGrid.linear(VP, eps, T, 10)


def test_excluded_T_and_bad_types():
    f1 = schedules.Fig1()
    with pytest.raises(ValueError, match="schedule's T"):
        check_window(f1, 1e-3, f1.T)
    with pytest.raises(TypeError, match="schedule"):
        check_window("VP", 1e-3)
    with pytest.raises(TypeError, match="eps and T"):
        check_window(VP, "small")
    with pytest.raises(TypeError, match="n_steps"):
        TimeGrid.linear(VP, 1e-2, 1.0, 10.5)
    with pytest.raises(ValueError, match="n_steps"):
        TimeGrid.linear(VP, 1e-2, 1.0, 0)


def test_from_times_checks():
    with pytest.raises(ValueError, match="strictly monotone"):
        TimeGrid.from_times(VP, [1.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="1-D array"):
        TimeGrid.from_times(VP, [1.0])
    with pytest.raises(ValueError, match="eps must lie in"):
        TimeGrid.from_times(VP, [1.0, 0.0])
    g = TimeGrid.from_times(VP, [1.0, 0.5])
    with pytest.raises(ValueError):
        g.ts[0] = 3.0  # read-only


def test_schedule_t_min_is_respected():
    s = schedules.VP()
    object.__setattr__(s, "t_min", 1e-3)  # schedules that define t_min (accepted t range)
    with pytest.raises(ValueError, match="t_min"):
        check_window(s, 1e-4)
    assert check_window(s, 1e-3) == (1e-3, 1.0)
