"""One Euro filter: passes constants, removes jitter, follows fast motion, handles gaps and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from convnextpose.inference import OneEuroFilter, PoseSmoother


def run(filt, signal):
    return np.array([filt(x) for x in signal])


def test_first_sample_is_returned_and_constants_stay_constant():
    filt = OneEuroFilter()
    first = np.array([[1.0, 2.0, 3.0]])
    out = filt(first)
    np.testing.assert_array_equal(out, first)
    assert out is not first
    for _ in range(20):
        np.testing.assert_allclose(filt(first), first)


def test_jitter_on_a_still_joint_is_reduced(rng):
    noisy = 1000.0 + rng.normal(0, 20.0, size=(300, 18, 3))
    out = run(OneEuroFilter(min_cutoff=1.0, beta=0.0, freq=30.0), noisy)
    assert out[50:].std() < 0.5 * noisy[50:].std()
    assert abs(out[50:].mean() - 1000.0) < 5.0


def test_low_pass_matches_the_closed_form_weight():
    # beta = 0: a plain exponential filter with alpha = 1 / (1 + 1 / (2 pi fc dt)).
    filt = OneEuroFilter(min_cutoff=2.0, beta=0.0, freq=10.0)
    filt(np.array(0.0))
    alpha = 1.0 / (1.0 + 1.0 / (2 * np.pi * 2.0 * 0.1))
    assert filt(np.array(1.0)) == pytest.approx(alpha)
    assert filt(np.array(1.0)) == pytest.approx(alpha + (1 - alpha) * alpha)


def test_beta_reduces_lag_on_fast_motion():
    ramp = np.arange(60, dtype=np.float64) * 50.0  # 1500 units/s at 30 Hz
    slow = run(OneEuroFilter(min_cutoff=0.5, beta=0.0), ramp)
    fast = run(OneEuroFilter(min_cutoff=0.5, beta=0.05), ramp)
    lag_slow = (ramp - slow)[-10:].mean()
    lag_fast = (ramp - fast)[-10:].mean()
    assert lag_fast < 0.3 * lag_slow and lag_fast > 0


def test_step_is_followed_eventually():
    signal = np.r_[np.zeros(5), np.full(120, 100.0)]
    out = run(OneEuroFilter(min_cutoff=1.0, beta=0.01), signal)
    assert 0 < out[5] < 100 and out[-1] == pytest.approx(100.0, abs=0.5)
    assert np.all(np.diff(out[5:]) >= -1e-9)


def test_timestamps_set_the_time_step():
    a, b = OneEuroFilter(beta=0.0), OneEuroFilter(beta=0.0)
    a(np.array(0.0), 0.0)
    b(np.array(0.0), 0.0)
    # A longer gap lets the output move further towards the new value.
    assert a(np.array(10.0), 1.0) > b(np.array(10.0), 0.01)
    with pytest.raises(ValueError, match="increase"):
        a(np.array(1.0), 0.5)


def test_missing_values_pass_through_without_poisoning_the_state():
    filt = OneEuroFilter(beta=0.0)
    filt(np.array([0.0, 0.0]))
    out = filt(np.array([np.nan, 10.0]))
    assert np.isnan(out[0]) and 0 < out[1] < 10
    out = filt(np.array([0.0, 10.0]))
    assert np.isfinite(out).all() and out[0] == pytest.approx(0.0)
    # A joint first seen late starts at its own value.
    filt2 = OneEuroFilter()
    filt2(np.array([np.nan, 1.0]))
    assert filt2(np.array([5.0, 1.0]))[0] == pytest.approx(5.0)


def test_bad_parameters_and_shapes_raise():
    for kwargs in ({"min_cutoff": 0}, {"beta": -1}, {"d_cutoff": np.nan}, {"freq": 0}):
        with pytest.raises(ValueError):
            OneEuroFilter(**kwargs)
    filt = OneEuroFilter()
    filt(np.zeros((18, 3)))
    with pytest.raises(ValueError, match="shape"):
        filt(np.zeros((17, 3)))
    filt.reset()
    filt(np.zeros((17, 3)))


def test_pose_smoother_keeps_one_filter_per_track():
    smoother = PoseSmoother(min_cutoff=1.0, beta=0.0)
    smoother("a", np.zeros(3))
    smoother("b", np.full(3, 100.0))
    a = smoother("a", np.full(3, 10.0))
    b = smoother("b", np.full(3, 100.0))
    assert 0 < a[0] < 10 and b[0] == pytest.approx(100.0)
    smoother.keep_only({"b"})
    np.testing.assert_array_equal(smoother("a", np.full(3, 7.0)), np.full(3, 7.0))  # a fresh track
