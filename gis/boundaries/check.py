"""Database-free checks of administrative boundaries; the findings become the data-quality layer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.boundaries.errors import BoundaryError
from gis.summary import Summary

WGS84 = "EPSG:4326"

# kind -> severity (outside_parent is graded by share, see check_boundaries); the order is the order of the report.
# An error stops a load (gis/boundaries/load.py): the data would put units, and the counts located in them, in the
# wrong place. Warnings are loaded and shown in the data-quality layer; info says what was done.
SEVERITY: dict[str, str] = {
    "invalid_geometry": "warning",
    "duplicate_code": "error",
    "missing_code": "error",
    "unknown_code": "error",
    "level_mismatch": "error",
    "missing_parent": "error",
    "missing_geometry": "warning",
    "swapped_geometry": "error",
    "outside_parent": "warning",
    "sibling_overlap": "warning",
    "gap": "warning",
    "dissolved": "info",
    "renamed": "info",
    "coverage": "info",
}
SEVERITY_ORDER = ("error", "warning", "info")
FRAME_COLUMNS = ["kind", "severity", "code", "other_code", "level", "area_m2", "share", "detail"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding; geometry (EPSG:4326) locates it, None where the problem is not spatial.

    severity defaults to the kind's (SEVERITY); a graded kind passes its own.
    """

    kind: str
    code: str | None
    level: int | None = None
    other_code: str | None = None
    area_m2: float | None = None
    share: float | None = None
    detail: str = ""
    geometry: BaseGeometry | None = None
    severity: str = ""

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", SEVERITY[self.kind])

    def to_dict(self) -> dict:
        """JSON-ready fields without the geometry."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "code": self.code,
            "other_code": self.other_code,
            "level": self.level,
            "area_m2": self.area_m2,
            "share": self.share,
            "detail": self.detail,
        }


@dataclass
class BoundaryReport:
    """All findings of one check run plus the units with invalid geometries repaired."""

    problems: list[Problem]
    repaired: gpd.GeoDataFrame
    metric_crs: str
    parameters: dict = field(default_factory=dict)

    def summary(self) -> dict[str, dict]:
        """Per kind: its worst severity, count, count per severity and per level (1 province … 4 hamlet) and, for
        areal kinds, total_area_m2."""
        out: dict[str, dict] = {}
        for p in self.problems:
            entry = out.setdefault(p.kind, {"severity": p.severity, "count": 0, "by_severity": {}, "by_level": {}})
            entry["count"] += 1
            entry["by_severity"][p.severity] = entry["by_severity"].get(p.severity, 0) + 1
            entry["severity"] = min(entry["severity"], p.severity, key=SEVERITY_ORDER.index)
            if p.level is not None:
                entry["by_level"][int(p.level)] = entry["by_level"].get(int(p.level), 0) + 1
            if p.area_m2 is not None:
                entry["total_area_m2"] = entry.get("total_area_m2", 0.0) + p.area_m2
        return {kind: out[kind] for kind in SEVERITY if kind in out}

    @property
    def errors(self) -> list[Problem]:
        """The findings that stop a load."""
        return [p for p in self.problems if p.severity == "error"]

    def to_json(self) -> dict:
        """Summary, parameters and problems without geometry, ready for json.dumps."""
        return {
            "metric_crs": self.metric_crs,
            "parameters": dict(self.parameters),
            "summary": self.summary(),
            "problems": [p.to_dict() for p in self.problems],
        }

    def check_summary(self, dataset: str) -> CheckSummary:
        """What `covidgis boundaries check` prints: the dataset's name with the report."""
        return CheckSummary(dataset=dataset, **self.to_json())

    def problems_frame(self) -> gpd.GeoDataFrame:
        """Problems as a GeoDataFrame in EPSG:4326, the shape of the data-quality layer."""
        rows = [p.to_dict() for p in self.problems]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        frame["level"] = frame["level"].astype("Int64")
        for col in ("area_m2", "share"):
            frame[col] = frame[col].astype("float64")
        geoms = [p.geometry for p in self.problems]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)


@dataclass
class CheckSummary(Summary):
    """A dataset's check without loading it: per-kind summary, the parameters used, every problem (no geometry)."""

    dataset: str
    metric_crs: str
    parameters: dict
    summary: dict[str, dict]
    problems: list[dict]


def _code_str(value) -> str:
    """A code as clean text: None/NaN -> '', 75.0 -> '75' (pandas reads integer codes with gaps as floats)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _normalise_codes(codes: pd.DataFrame) -> pd.DataFrame:
    """Official code list with text codes and integer levels."""
    out = pd.DataFrame(
        {
            "code": codes["code"].map(_code_str),
            "name": codes["name"].astype(str),
            "level": codes["level"].astype(int),
            "parent_code": codes["parent_code"].map(_code_str) if "parent_code" in codes else "",
        }
    )
    return out[out["code"] != ""].reset_index(drop=True)


def _normalise_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units in EPSG:4326 with text codes and a status column ('current' unless told)."""
    if units.crs is None:
        raise BoundaryError("boundary units have no CRS; set it (the shipped GeoJSON files are EPSG:4326)")
    df = units.to_crs(WGS84).reset_index(drop=True)
    status = df["status"] if "status" in df.columns else pd.Series(None, index=df.index, dtype=object)
    if "status_2021" in df.columns:
        status = status.fillna(df["status_2021"])
    df["status"] = status.fillna("current").astype(str)
    df["code"] = df["code"].map(_code_str)
    df["parent_code"] = df["parent_code"].map(_code_str) if "parent_code" in df else ""
    df["level"] = df["level"].astype(int)
    df["name"] = df["name"].fillna("").astype(str) if "name" in df else ""
    return df


def _multipolygon(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Only the polygonal parts of geom, as a MultiPolygon (empty if none are left)."""
    if geom is None:
        return None
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon([q for q in polys if not q.is_empty])


def _repair(df: gpd.GeoDataFrame) -> tuple[np.ndarray, list[Problem]]:
    """make_valid every invalid geometry (polygonal parts kept) and promote Polygons to MultiPolygons."""
    geoms = np.asarray(df.geometry.array, dtype=object).copy()
    problems = []
    invalid = ~shapely.is_missing(geoms) & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        geoms[i] = _multipolygon(shapely.make_valid(geoms[i]))
        problems.append(
            Problem(
                "invalid_geometry",
                df.at[i, "code"] or None,
                int(df.at[i, "level"]),
                detail=f"{reason}; repaired with make_valid",
                geometry=geoms[i],
            )
        )
    is_poly = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    geoms[is_poly] = [shapely.MultiPolygon([g]) for g in geoms[is_poly]]
    return geoms, problems


def _code_problems(df: pd.DataFrame, codes: pd.DataFrame, geom: np.ndarray, present: np.ndarray) -> list[Problem]:
    """Duplicate, missing, unknown and mis-levelled codes, absent parents and absent geometries."""
    problems: list[Problem] = []
    listed_level = dict(zip(codes["code"], codes["level"]))
    # Retired codes (dissolved units) and synthetic hamlets are not in the official list by design.
    retired = df["status"].str.startswith("dissolved").to_numpy(dtype=bool, copy=True)
    if "synthetic" in df.columns:
        retired |= df["synthetic"].fillna(False).astype(bool).to_numpy(dtype=bool)
    code_of, level_of, name_of = (df[c].to_numpy() for c in ("code", "level", "name"))
    for code, rows in df[df["code"] != ""].groupby("code", sort=True).groups.items():
        if len(rows) > 1:
            problems.append(
                Problem(
                    "duplicate_code",
                    str(code),
                    int(level_of[rows[0]]),
                    detail=f"code appears on {len(rows)} features",
                    geometry=_multipolygon(shapely.union_all(geom[list(rows)])),
                )
            )
    for i in np.flatnonzero(code_of == "").tolist():
        problems.append(
            Problem(
                "missing_code",
                None,
                int(level_of[i]),
                detail=f"feature {i} ({name_of[i] or 'no name'}) has no code",
                geometry=geom[i],
            )
        )
    for i, row in enumerate(df.to_dict("records")):
        if row["code"] == "":
            continue
        if row["code"] not in listed_level and not retired[i]:
            problems.append(
                Problem(
                    "unknown_code",
                    row["code"],
                    int(row["level"]),
                    detail=f"{row['name']}: code is not in the official code list",
                    geometry=geom[i],
                )
            )
        elif row["code"] in listed_level and listed_level[row["code"]] != row["level"]:
            problems.append(
                Problem(
                    "level_mismatch",
                    row["code"],
                    int(row["level"]),
                    detail=f"{row['name']}: geometry level {row['level']}, code list level {listed_level[row['code']]}",
                    geometry=geom[i],
                )
            )
    known = set(codes["code"]) | set(df["code"])
    seen: set[str] = set()
    for source, frame in (("geometry", df), ("code list", codes)):
        for i, row in enumerate(frame.to_dict("records")):
            if row["code"] in seen or row["level"] <= 1 or row["parent_code"] in known:
                continue
            seen.add(row["code"])
            why = (
                f"parent {row['parent_code']} is in neither the code list nor the geometries"
                if row["parent_code"]
                else "no parent_code although level > 1"
            )
            problems.append(
                Problem(
                    "missing_parent",
                    row["code"] or None,
                    int(row["level"]),
                    other_code=row["parent_code"] or None,
                    detail=f"{source}: {why}",
                    geometry=geom[i] if source == "geometry" else None,
                )
            )
    for i in np.flatnonzero(~present).tolist():
        problems.append(
            Problem(
                "missing_geometry",
                code_of[i] or None,
                int(level_of[i]),
                detail=f"{name_of[i]}: feature has an empty geometry",
            )
        )
    levels = set(df.loc[present, "level"])
    absent = codes[codes["level"].isin(levels) & ~codes["code"].isin(set(df["code"]))]
    for listed in absent.to_dict("records"):
        problems.append(
            Problem(
                "missing_geometry",
                listed["code"],
                int(listed["level"]),
                detail=f"{listed['name']}: listed code has no geometry",
            )
        )
    return problems


def _area(geoms, metric_crs: str) -> np.ndarray:
    """Areas in m² of EPSG:4326 geometries, measured in the metric CRS."""
    return gpd.GeoSeries(list(geoms), crs=WGS84).to_crs(metric_crs).area.to_numpy()


def _containment(df, geoms, area, first, metric_crs) -> tuple[np.ndarray, dict[int, dict[int, float]]]:
    """The children (units whose coded parent has a shape) and, per child, the m² of it inside each unit of its
    parent's level (positive overlaps only): where a child's land really lies."""
    child = np.array([i for i in range(len(df)) if df.at[i, "parent_code"] in first and area[i] > 0], dtype=int)
    levels = df["level"].to_numpy()
    parents = np.array(sorted(set(first.values())), dtype=int)
    inside: dict[int, dict[int, float]] = {int(c): {} for c in child}
    parent_level = levels[[first[df.at[c, "parent_code"]] for c in child]] if len(child) else np.zeros(0, dtype=int)
    for lvl in sorted(set(parent_level)):
        kids, units = child[parent_level == lvl], parents[levels[parents] == lvl]
        k, u = shapely.STRtree(geoms[units]).query(geoms[kids], predicate="intersects")
        overlap = _area(shapely.intersection(geoms[kids[k]], geoms[units[u]]), metric_crs) if len(k) else np.zeros(0)
        for c, unit, a in zip(kids[k], units[u], overlap):
            if a > 0:
                inside[int(c)][int(unit)] = float(a)
    return child, inside


def _outside_parent(
    df, geoms, area, first, child, inside, metric_crs, min_area, share_min, share_error
) -> list[Problem]:
    """Share of each child lying outside its parent polygon; an error from share_error on (most of the unit is
    elsewhere: its code or its shape is wrong), a warning below. The detail names the other unit holding most of
    it."""
    if len(child) == 0:
        return []
    parent = np.array([first[df.at[i, "parent_code"]] for i in child], dtype=int)
    outside = shapely.difference(geoms[child], geoms[parent])
    out_area = _area(outside, metric_crs)
    share = out_area / area[child]
    keep = (share >= share_min) & (out_area >= min_area)
    problems = []
    for c, p, a, s, g in zip(child[keep], parent[keep], out_area[keep], share[keep], outside[keep]):
        detail = f"{df.at[c, 'name']}: {s:.2%} ({a / 1e6:.4f} km²) lies outside {df.at[p, 'name']}"
        elsewhere = {u: m2 for u, m2 in inside[int(c)].items() if u != p}
        host = max(elsewhere, key=lambda u: elsewhere[u], default=None)
        if host is not None:
            detail += f"; {elsewhere[host] / area[c]:.1%} of it lies in {df.at[host, 'name']} ({df.at[host, 'code']})"
        problems.append(
            Problem(
                "outside_parent",
                df.at[c, "code"],
                int(df.at[c, "level"]),
                other_code=df.at[p, "code"],
                area_m2=float(a),
                share=float(s),
                geometry=_multipolygon(g),
                detail=detail,
                severity="error" if s >= share_error else "warning",
            )
        )
    return problems


def _swapped(df, geoms, area, first, child, inside, share_min) -> list[Problem]:
    """Units whose shapes hold each other's children: most of A's children (by area) lie in B's shape and most of
    B's in A's — the source swapped their geometries (or, for longer cycles, permuted them)."""
    kids: dict[int, list[int]] = {}
    for c in child:
        kids.setdefault(first[df.at[c, "parent_code"]], []).append(int(c))
    holder: dict[int, tuple[int, float]] = {}  # unit -> (the other unit holding most of its children, share)
    for unit, members in kids.items():
        held: Counter = Counter()
        for c in members:
            held.update(inside[c])
        total = sum(area[c] for c in members)
        other = max((u for u in held if u != unit), key=lambda u: held[u], default=None)
        if other is not None and held[other] / total >= share_min:
            holder[unit] = (other, held[other] / total)
    problems, seen = [], set()
    for start in sorted(holder, key=lambda u: df.at[u, "code"]):
        path, unit = [], start
        while unit in holder and unit not in path and unit not in seen:
            path.append(unit)
            unit = holder[unit][0]
        seen.update(path)
        if unit not in path:
            continue
        cycle = path[path.index(unit) :]
        first_at = min(range(len(cycle)), key=lambda i: df.at[cycle[i], "code"])
        cycle = cycle[first_at:] + cycle[:first_at]
        label = [f"{df.at[u, 'code']} ({df.at[u, 'name']})" for u in cycle]
        shares = [holder[u][1] for u in cycle]
        if len(cycle) == 2:
            detail = (
                f"the geometries of {label[0]} and {label[1]} look swapped: {shares[0]:.0%} of the first's "
                f"children lie in the second's shape and {shares[1]:.0%} of the second's in the first's"
            )
        else:
            chain = "; ".join(
                f"{s:.0%} of {a}'s children lie in {b}'s shape" for a, b, s in zip(label, label[1:] + label[:1], shares)
            )
            detail = f"the geometries of {', '.join(label[:-1])} and {label[-1]} look permuted: {chain}"
        problems.append(
            Problem(
                "swapped_geometry",
                df.at[cycle[0], "code"],
                int(df.at[cycle[0], "level"]),
                other_code=df.at[cycle[1], "code"],
                share=float(min(shares)),
                detail=detail,
                geometry=_multipolygon(shapely.union_all(geoms[cycle])),
            )
        )
    return problems


def _overlaps(df, geoms, idx, metric_crs, min_area) -> list[Problem]:
    """Overlapping pairs among units of one level, whatever their parents."""
    left, right = shapely.STRtree(geoms[idx]).query(geoms[idx], predicate="intersects")
    pair = left < right
    a, b = idx[left[pair]], idx[right[pair]]
    inter = shapely.intersection(geoms[a], geoms[b])
    inter_area = _area(inter, metric_crs) if len(inter) else np.zeros(0)
    keep = inter_area >= min_area
    problems = []
    for i, j, ar, g in zip(a[keep], b[keep], inter_area[keep], inter[keep]):
        pi, pj = df.at[i, "parent_code"], df.at[j, "parent_code"]
        parents = f"same parent {pi}" if pi == pj else f"parents differ ({pi} / {pj})"
        problems.append(
            Problem(
                "sibling_overlap",
                df.at[i, "code"],
                int(df.at[i, "level"]),
                other_code=df.at[j, "code"],
                area_m2=float(ar),
                geometry=_multipolygon(g),
                detail=f"{df.at[i, 'name']} / {df.at[j, 'name']} overlap by {ar / 1e6:.4f} km²; {parents}",
            )
        )
    return problems


def _gaps(df, geoms, idx, parent_idx, metric_crs, min_area) -> list[Problem]:
    """Holes (interior rings) in the union of one level, each given to the parent holding it."""
    union = shapely.union_all(geoms[idx])
    rings, owner = shapely.get_rings(shapely.get_parts(union), return_index=True)
    interior = np.r_[False, owner[1:] == owner[:-1]]
    holes = shapely.polygons(rings[interior])
    hole_area = _area(holes, metric_crs) if len(holes) else np.zeros(0)
    holes, hole_area = holes[hole_area >= min_area], hole_area[hole_area >= min_area]
    if len(holes) == 0:
        return []
    inside: dict[int, str] = {}
    if len(parent_idx):
        pts, par = shapely.STRtree(geoms[parent_idx]).query(shapely.point_on_surface(holes), predicate="within")
        for h, p in sorted(zip(pts, parent_idx[par]), key=lambda hp: (hp[0], df.at[hp[1], "code"])):
            inside.setdefault(int(h), df.at[p, "code"])
    hh, uu = shapely.STRtree(geoms[idx]).query(holes, predicate="intersects")
    bordering: dict[int, list[int]] = {}
    for h, u in zip(hh, idx[uu]):
        bordering.setdefault(int(h), []).append(int(u))
    level = int(df.at[idx[0], "level"])
    problems = []
    for h in np.argsort(-hole_area, kind="stable"):
        units = sorted(bordering.get(int(h), []), key=lambda u: df.at[u, "code"])
        parent = inside.get(int(h))
        if parent is None and units:
            counts = Counter(df.at[u, "parent_code"] for u in units if df.at[u, "parent_code"])
            parent = min(counts, key=lambda c: (-counts[c], c)) if counts else None
        names = ", ".join(df.at[u, "code"] for u in units[:6]) + (" …" if len(units) > 6 else "")
        problems.append(
            Problem(
                "gap",
                parent,
                level,
                area_m2=float(hole_area[h]),
                geometry=shapely.MultiPolygon([holes[h]]),
                detail=f"{hole_area[h]:.1f} m² not covered by any level-{level} unit "
                f"inside parent {parent}; bordered by {names or 'nothing'}",
            )
        )
    return problems


def _coverage(df, geoms, area, first, metric_crs, min_area, share_min) -> list[Problem]:
    """Per parent: area not covered by its children and area of the children outside it.

    Reported when the symmetric difference reaches share_min of the parent: unions of many polygons
    that share edges exactly leave noise of a few hundredths of a m², above min_area's scale.
    """
    kids: dict[str, list[int]] = {}
    for i in range(len(df)):
        if df.at[i, "parent_code"] in first and area[i] > 0:
            kids.setdefault(df.at[i, "parent_code"], []).append(i)
    problems = []
    for code in sorted(kids):
        p = first[code]
        union = shapely.union_all(geoms[kids[code]])
        uncovered, outside = _area(
            [shapely.difference(geoms[p], union), shapely.difference(union, geoms[p])], metric_crs
        )
        share = (uncovered + outside) / area[p]
        if uncovered + outside < min_area or share < share_min:
            continue
        problems.append(
            Problem(
                "coverage",
                code,
                int(df.at[p, "level"]),
                area_m2=float(uncovered + outside),
                share=float(share),
                geometry=_multipolygon(shapely.symmetric_difference(geoms[p], union)),
                detail=f"{df.at[p, 'name']}: {uncovered / 1e6:.3f} km² not covered by its "
                f"{len(kids[code])} children, {outside / 1e6:.3f} km² of children "
                f"outside; symmetric difference {share:.2%} of the parent",
            )
        )
    return problems


def check_boundaries(
    units: gpd.GeoDataFrame,
    codes: pd.DataFrame,
    *,
    metric_crs: str | None = None,
    min_area_m2: float = 0.01,
    outside_share_min: float = 0.001,
    outside_share_error: float = 0.5,
) -> BoundaryReport:
    """Check units against the official code list and against each other; areas in a metric CRS.

    metric_crs defaults to the UTM zone of the data (EPSG:32648 for Đồng Nai). min_area_m2 only
    drops floating-point noise (< 1e-5 m² on shared edges); the thinned Đồng Nai communes have
    genuine overlaps from 0.04 m² and gaps from 0.16 m² that PROVENANCE counts.

    A child with outside_share_min or more of its area outside its coded parent is `outside_parent`: a warning
    (edges of sources that do not share an origin), an error from outside_share_error on — at least half of the
    unit lies elsewhere, so either its code or its shape is wrong (Đồng Nai's worst, Đông Hoà, is 37 % outside
    Trảng Bom). When at least outside_share_error of one unit's children lie in another's shape and the other's in
    the first's (or around a longer cycle), the finding is `swapped_geometry`, an error naming both.
    """
    df = _normalise_units(units)
    code_list = _normalise_codes(codes)
    geoms, problems = _repair(df)
    repaired = df.set_geometry(gpd.GeoSeries(geoms, crs=WGS84, index=df.index))
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if metric_crs is None:
        if not present.any():
            raise BoundaryError("no unit has a geometry, so no metric CRS can be chosen; pass metric_crs")
        metric_crs = repaired[present].estimate_utm_crs().to_string()
    problems += _code_problems(df, code_list, geoms, present)

    # Topology in EPSG:4326, where edges shared in the source coincide exactly; areas in metric_crs.
    area = np.where(present, repaired.geometry.to_crs(metric_crs).area.to_numpy(), 0.0)
    areal = present & (area > 0)
    first: dict[str, int] = {}
    for i in np.flatnonzero(areal).tolist():
        first.setdefault(df.at[i, "code"], int(i))
    first.pop("", None)
    child, inside = _containment(df, geoms, area, first, metric_crs)
    problems += _swapped(df, geoms, area, first, child, inside, outside_share_error)
    problems += _outside_parent(
        df, geoms, area, first, child, inside, metric_crs, min_area_m2, outside_share_min, outside_share_error
    )
    levels = df["level"].to_numpy()
    for lvl in sorted(set(levels[areal])):
        idx = np.flatnonzero(areal & (levels == lvl))
        if len(idx) > 1:
            problems += _overlaps(df, geoms, idx, metric_crs, min_area_m2)
        problems += _gaps(df, geoms, idx, np.flatnonzero(areal & (levels == lvl - 1)), metric_crs, min_area_m2)
    listed_codes = set(code_list["code"])
    for i, status in enumerate(df["status"]):
        for kind in ("dissolved", "renamed"):
            if status.startswith(kind):
                listed = "in" if df.at[i, "code"] in listed_codes else "not in"
                problems.append(
                    Problem(
                        kind,
                        df.at[i, "code"] or None,
                        int(df.at[i, "level"]),
                        detail=f"{df.at[i, 'name']}: status {status}; code {listed} the code list",
                        geometry=geoms[i] if present[i] else None,
                    )
                )
    problems += _coverage(df, geoms, area, first, metric_crs, min_area_m2, outside_share_min)
    order = {kind: n for n, kind in enumerate(SEVERITY)}
    problems.sort(key=lambda p: order[p.kind])
    params = {
        "min_area_m2": min_area_m2,
        "outside_share_min": outside_share_min,
        "outside_share_error": outside_share_error,
    }
    return BoundaryReport(problems=problems, repaired=repaired, metric_crs=metric_crs, parameters=params)
