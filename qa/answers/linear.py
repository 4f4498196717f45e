"""A fitted logistic model at answer time: weights over named features and a bias (a dot product;
no fitting library is loaded). :mod:`qa.calibrate` fits them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Linear:
    """Weights over named features (raw values) and a bias: a logistic model's log-odds."""

    weights: np.ndarray
    bias: float
    names: tuple[str, ...]  # the features the weights are over, in their order

    def logit(self, values: np.ndarray) -> float:
        """Log-odds for feature ``values`` given in the model's order."""
        return float(values @ self.weights + self.bias)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds of each row of feature values (rows × features, in the model's order)."""
        return rows @ self.weights + self.bias

    @classmethod
    def from_entry(cls, entry: dict, names: Sequence[str]) -> Linear:
        """From a data-file entry whose ``weights`` are keyed by feature name, in the order of ``names``."""
        weights = np.array([entry["weights"][name] for name in names], dtype=np.float64)
        return cls(weights, float(entry["bias"]), tuple(names))


def probability(logit: float) -> float:
    """The probability that log-odds ``logit`` stand for."""
    return float(1.0 / (1.0 + np.exp(-logit)))
