"""Classifier metrics: the pre-selection threshold."""

import numpy as np

from icanvas.eval.classification import preselect_threshold


def test_preselect_threshold_is_the_smallest_that_stays_precise():
    names = ["cat", "shoe", "sun"]
    # top guesses: cat 0.9 right, shoe 0.8 right, cat 0.7 wrong (a sun), shoe 0.6 right, sun 0.95 (not a studio kind)
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.7, 0.1, 0.2], [0.2, 0.6, 0.2], [0.0, 0.05, 0.95]])
    labels = np.array([0, 1, 2, 1, 2])
    pre = preselect_threshold(probs, labels, names, ["cat", "shoe"], precision=0.95)
    assert pre["threshold"] == 0.8 and pre["precision"] == 1.0 and pre["selected"] == 2  # 0.7 lets a wrong one in
    assert pre["count"] == 5 and pre["of_kinds"] == 3
    loose = preselect_threshold(probs, labels, names, ["cat", "shoe"], precision=0.6)
    assert loose["threshold"] == 0.6 and loose["selected"] == 4 and loose["precision"] == 0.75
    # 0.6 alone would be right 75% of the time, but 0.7 above it only 67%: a stricter threshold must never do worse
    assert preselect_threshold(probs, labels, names, ["cat", "shoe"], precision=0.7)["threshold"] == 0.8
    assert preselect_threshold(probs, labels, names, ["sun"], precision=0.95)["threshold"] == 0.95
    never = preselect_threshold(probs[[2]], labels[[2]], names, ["cat"], precision=0.95)
    assert never["threshold"] is None and never["selected"] == 0
