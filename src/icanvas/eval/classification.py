"""Classifier metrics (each a small pure function): accuracy, per-class accuracy and the confusion
matrix, its markdown table, and the probability threshold above which acting on the top guess
(the studio pre-selecting a kind) is right often enough."""

from __future__ import annotations

from typing import Any

import numpy as np


def classification_metrics(probs: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Accuracy, class-balanced accuracy, per-class accuracy and the confusion matrix (rows = true class)."""
    pred = probs.argmax(1)
    n = len(names)
    confusion = np.zeros((n, n), np.int64)
    np.add.at(confusion, (labels, pred), 1)
    totals = confusion.sum(1)
    per_class = {names[c]: round(float(confusion[c, c] / totals[c]), 4) for c in range(n) if totals[c]}
    return {"accuracy": round(float((pred == labels).mean()) if len(labels) else 0.0, 4),
            "balanced_accuracy": round(float(np.mean(list(per_class.values()))) if per_class else 0.0, 4),
            "count": int(len(labels)), "per_class": per_class, "confusion": confusion.tolist(), "labels": list(names)}


def confusion_markdown(confusion: list[list[int]], names: list[str], columns: list[str] | None = None) -> str:
    """Markdown table: one row per true class (``names``), one column per predicted class (``columns``, default ``names``)."""
    columns = columns or names
    head = "| true \\ predicted | " + " | ".join(columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    rows = [f"| **{names[i]}** | " + " | ".join(str(v) for v in row) + " |" for i, row in enumerate(confusion)]
    return "\n".join([head, rule, *rows])


def preselect_threshold(probs: np.ndarray, labels: np.ndarray, names: list[str], kinds: list[str], precision: float = 0.95) -> dict[str, Any]:
    """The smallest probability above which pre-selecting the top guess is right often enough.

    A drawing is pre-selected when its top guess is one of ``kinds`` and has probability >= t;
    the pre-selection is right when that guess is its true class. Returns the smallest t from
    which on precision stays >= ``precision`` for every higher t too (so a stricter threshold
    never does worse on these drawings), with that precision, how many drawings were pre-selected
    (``selected``) out of ``count`` and of the drawings of those kinds (``of_kinds``). ``threshold``
    is None when no t reaches the precision.
    """
    pred, top = probs.argmax(1), probs.max(1)  # (N,)
    wanted = np.isin(pred, [names.index(k) for k in kinds if k in names])
    cand = np.sort(np.unique(top[wanted]))[::-1]  # candidate thresholds, highest first
    best, best_prec, best_n = None, None, 0
    for t in cand:
        chosen = wanted & (top >= t)
        prec = float((pred[chosen] == labels[chosen]).mean())
        if prec < precision:
            break
        best, best_prec, best_n = float(t), prec, int(chosen.sum())
    in_kinds = int(np.isin(labels, [names.index(k) for k in kinds if k in names]).sum())
    return {"threshold": None if best is None else round(best, 4), "precision": None if best_prec is None else round(best_prec, 4),
            "selected": best_n, "count": int(len(labels)), "of_kinds": in_kinds, "target": precision, "kinds": list(kinds)}
