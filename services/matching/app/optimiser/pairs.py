"""Demand/plot column arrays and pair views: what the hard rules and the cost terms are written against.

A rule or a cost term is one vectorised function of a demand side `d` and a plot side `p`
(`d.layers > p.max_layers`). The same function then serves three shapes:
- a block: some demands x every plot (feasibility and the per-rule explanation matrices),
- pairs: aligned demand and plot index arrays (the arcs, a plan's allocations),
- one pair (the scalar check) as pairs of length one.

Columns are the input dataclasses' attributes, or derived columns registered next to the rule or
term that needs them (`@demand_column` / `@plot_column`); each is built once per `Columns`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from services.matching.app.optimiser.inputs import Demand, Plot, Weights

DTYPES = {"bool": bool, "int": np.int64, "float": float}

# name -> f(row, weights, code): a derived column; `code` maps strings to ints shared by both sides
DEMAND_COLUMNS: dict[str, Callable[[Any, Any, Callable[[str], int]], Any]] = {}
PLOT_COLUMNS: dict[str, Callable[[Any, Any, Callable[[str], int]], Any]] = {}


def demand_column(name: str):
    def register(fn):
        DEMAND_COLUMNS[name] = fn
        return fn
    return register


def plot_column(name: str):
    def register(fn):
        PLOT_COLUMNS[name] = fn
        return fn
    return register


class Table:
    """Column arrays of one side (demands or plots), each built on first use."""

    def __init__(self, rows: Sequence[Any], row_type: type, w: Weights, derived: dict,
                 code: Callable[[str], int]) -> None:
        self.rows, self.w, self._derived, self._code = rows, w, derived, code
        self._types = {f.name: f.type for f in dataclasses.fields(row_type)}
        self._cache: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        cache = self._cache
        if name not in cache:
            fn = self._derived.get(name)
            if fn is not None:
                values, kind = [fn(r, self.w, self._code) for r in self.rows], fn.__annotations__.get("return")
            else:
                values, kind = [getattr(r, name) for r in self.rows], self._types[name]
            # the declared type fixes the dtype (a None from the read model is False / 0, as a bool / int)
            dtype = DTYPES.get(kind if isinstance(kind, str) else getattr(kind, "__name__", ""), object)
            arr = np.empty(len(values), dtype=dtype)
            arr[:] = values
            cache[name] = arr
        return cache[name]


class Columns:
    """The demand and plot tables of one instance (strings coded alike on both sides)."""

    def __init__(self, demands: Sequence[Demand], plots: Sequence[Plot], w: Weights) -> None:
        codes: dict[str, int] = {}
        code = lambda s: codes.setdefault(s, len(codes))  # noqa: E731
        self.w = w
        self.d = Table(demands, Demand, w, DEMAND_COLUMNS, code)
        self.p = Table(plots, Plot, w, PLOT_COLUMNS, code)

    def block(self, rows: np.ndarray) -> tuple[Side, Side]:
        """Sides for `rows` x every plot: (len(rows), plots) matrices."""
        return Side(self.d, rows, (slice(None), None)), Side(self.p, np.arange(len(self.p)), (None, slice(None)))

    def pairs(self, di: np.ndarray, pj: np.ndarray) -> tuple[Side, Side]:
        """Sides for aligned (demand, plot) pairs: vectors."""
        return Side(self.d, np.asarray(di), ...), Side(self.p, np.asarray(pj), ...)


class Side:
    """One side of a set of pairs: `side.col` is the column indexed and shaped to broadcast with the other side."""

    def __init__(self, table: Table, index: np.ndarray, shape: Any) -> None:
        self.table, self.index, self._shape = table, index, shape

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.table, name)[self.index][self._shape]

    @property
    def at(self) -> np.ndarray:
        """The row numbers, shaped like the columns."""
        return self.index[self._shape]


def contains(d: Side, sets: str, p: Side, key: str) -> np.ndarray:
    """Per pair: is the plot's `key` in the demand's set column `sets`? Only non-empty sets are read."""
    di, pj = np.broadcast_arrays(d.at, p.at)
    table, keys = getattr(d.table, sets), getattr(p.table, key)
    out = np.zeros(di.shape, dtype=bool)
    some = np.nonzero(np.fromiter((bool(s) for s in table), dtype=bool, count=len(table))[di])
    out[some] = [keys[j] in table[i] for i, j in zip(di[some], pj[some])]
    return out
