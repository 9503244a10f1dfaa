"""Accent-insensitive search over area names: "bien hoa" finds "Biên Hòa", "tan phong" finds "Phường Tân Phong"."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def fold(text: str) -> str:
    """Lower case without diacritics, đ as d: the form both names and queries are compared in."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


@dataclass(frozen=True)
class Place:
    """A unit as the search shows it: its name, level, parents' names and extent."""

    code: str
    name: str
    level: int
    parents: tuple[str, ...]  # names from the parent up, e.g. ("Phường Tân Phong", "Thành phố Biên Hòa")
    bbox: tuple[float, float, float, float]

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parents": list(self.parents),
            "bbox": list(self.bbox),
        }


class NameIndex:
    """Every current unit's folded name and its parents' names; built once per boundary load."""

    def __init__(self, rows: list[dict]):
        by_code = {r["code"]: r for r in rows}
        self.places: list[Place] = []
        self._keys: list[tuple[str, str]] = []  # (folded own name, folded own + parents' names)
        for r in rows:
            parents: list[str] = []
            parent = by_code.get(r["parent_code"])
            while parent is not None and len(parents) < 3:
                parents.append(parent["name"])
                parent = by_code.get(parent["parent_code"])
            place = Place(
                r["code"], r["name"], int(r["level"]), tuple(parents), (r["xmin"], r["ymin"], r["xmax"], r["ymax"])
            )
            self.places.append(place)
            self._keys.append((fold(place.name), fold(" ".join([place.name, *place.parents]))))

    def search(self, query: str, limit: int = 10) -> list[Place]:
        """Units whose name (or name with its parents') holds every word of the query, best matches first.

        Ranking: the whole query inside the unit's own name, then a match on word starts, then bigger units.
        """
        words = fold(query).split()
        if not words:
            return []
        phrase = " ".join(words)
        found = []
        for place, (own, full) in zip(self.places, self._keys):
            if not all(w in full for w in words):
                continue
            tokens = full.split()
            starts = all(any(t.startswith(w) for t in tokens) for w in words)
            found.append(((phrase not in own, not starts, place.level, len(place.name), place.name), place))
        found.sort(key=lambda item: item[0])
        return [place for _, place in found[:limit]]
