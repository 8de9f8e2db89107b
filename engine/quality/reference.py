"""The reference tables shipped in ``engine/quality/data/``, loaded lazily and cached.

The files are copies of ``shared/qms-reference/*.json``; the package never reads outside
itself at run time, so an installed wheel works the same as a checkout.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

DATA_FILES = ("aql_code_letters.json", "aql_single_normal.json", "aql_single_tightened.json",
              "aql_single_reduced.json", "spc_constants.json", "nelson_rules.json")


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """Parsed content of the shipped data file ``name`` (cached; treat it as read-only)."""
    if name not in DATA_FILES:
        raise KeyError(f"unknown quality data file {name!r}; known: {', '.join(DATA_FILES)}")
    text = resources.files("engine.quality").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)
