"""The reference CSV files a router is built from (``intake/reference/`` by default)."""

from __future__ import annotations

import csv
import os

DEFAULT_FOLDER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "intake", "reference"
)


def read_csv(name: str, folder: str = DEFAULT_FOLDER) -> list[dict]:
    with open(os.path.join(folder, name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_industry_names(folder: str = DEFAULT_FOLDER) -> dict[str, str]:
    """Industry code → name, from industries.csv: the one list of industries."""
    return {r["code"]: r["name"] for r in read_csv("industries.csv", folder)}
