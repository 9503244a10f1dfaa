"""Boundary checks: the known defects of the shipped Đồng Nai data and hand-made edge cases."""

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import shapely.affinity

from gis.boundaries.check import SEVERITY, check_boundaries
from gis.boundaries.errors import BoundaryError

DATA = Path(__file__).resolve().parents[2] / "boundaries" / "dongnai"


@pytest.fixture(scope="module")
def real_units() -> gpd.GeoDataFrame:
    frames = [gpd.read_file(DATA / f"{name}.geojson") for name in ("province", "districts", "communes")]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def real_codes() -> pd.DataFrame:
    return pd.read_csv(DATA / "admin_codes.csv", dtype=str)


@pytest.fixture(scope="module")
def real_report(real_units, real_codes):
    return check_boundaries(real_units, real_codes)


def of_kind(report, kind, level=None):
    return [p for p in report.problems if p.kind == kind and (level is None or p.level == level)]


def test_real_data_is_measured_in_utm_48n(real_report, real_units):
    assert len(real_units) == 183
    assert real_report.metric_crs == "EPSG:32648"


def test_real_commune_overlaps_match_provenance(real_report):
    overlaps = of_kind(real_report, "sibling_overlap", level=3)
    assert len(overlaps) == 347
    assert sum(p.area_m2 for p in overlaps) / 1e6 == pytest.approx(16.6, abs=0.05)
    largest = max(overlaps, key=lambda p: p.area_m2)
    assert largest.area_m2 / 1e6 == pytest.approx(0.30, abs=0.005)
    assert "Bình An" in largest.detail and "Bình Sơn" in largest.detail
    assert {p.level for p in of_kind(real_report, "sibling_overlap")} == {3}
    # overlaps across district lines are counted too, and say so
    assert sum("parents differ" in p.detail for p in overlaps) == 96


def test_real_commune_gaps_match_provenance(real_report):
    gaps = of_kind(real_report, "gap")
    assert len(gaps) == 556 and {p.level for p in gaps} == {3}
    total_km2 = sum(p.area_m2 for p in gaps) / 1e6
    # 17.26 km² in UTM 48N; the geodesic area is 17.25 km², the "17.2" of PROVENANCE.
    assert 17.2 <= total_km2 < 17.3
    assert max(p.area_m2 for p in gaps) / 1e6 == pytest.approx(0.28, abs=0.005)
    districts = {f"{c}" for c in range(731, 743)} - {"733"}
    assert {p.code for p in gaps} <= districts
    assert all(p.geometry.geom_type == "MultiPolygon" for p in gaps)


def test_min_area_one_square_metre_would_drop_genuine_slivers(real_units, real_codes):
    report = check_boundaries(real_units, real_codes, min_area_m2=1.0)
    assert len(of_kind(report, "sibling_overlap")) == 342
    assert len(of_kind(report, "gap")) == 555


def test_real_status_and_code_findings(real_report):
    assert [p.code for p in of_kind(real_report, "dissolved")] == ["26407"]
    assert [p.code for p in of_kind(real_report, "renamed")] == ["26326"]
    clean = (
        "invalid_geometry",
        "duplicate_code",
        "missing_code",
        "unknown_code",
        "level_mismatch",
        "missing_parent",
        "missing_geometry",
    )
    assert {k: len(of_kind(real_report, k)) for k in clean} == dict.fromkeys(clean, 0)


def test_real_outside_parent_and_coverage(real_report):
    outside = of_kind(real_report, "outside_parent")
    assert len(outside) == 118 and all(p.share >= 0.001 for p in outside)
    worst = max(outside, key=lambda p: p.share)
    assert (worst.code, worst.other_code) == ("26266", "737")
    coverage = of_kind(real_report, "coverage")
    assert len(coverage) == 11 and all(p.level == 2 for p in coverage)
    assert min(p.share for p in coverage) == pytest.approx(0.011, abs=0.001)
    top = max(coverage, key=lambda p: p.share)
    assert top.code == "737" and top.share == pytest.approx(0.044, abs=0.001)


def test_report_outputs_agree(real_report):
    frame = real_report.problems_frame()
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [
        "kind",
        "severity",
        "code",
        "other_code",
        "level",
        "area_m2",
        "share",
        "detail",
        "geometry",
    ]
    summary = real_report.summary()
    assert frame["kind"].value_counts().to_dict() == {k: v["count"] for k, v in summary.items()}
    assert summary["gap"]["total_area_m2"] == pytest.approx(frame.loc[frame.kind == "gap", "area_m2"].sum())
    assert "total_area_m2" not in summary["dissolved"]
    payload = json.loads(json.dumps(real_report.to_json()))
    assert len(payload["problems"]) == len(frame)
    assert "geometry" not in payload["problems"][0]
    assert set(frame["severity"]) <= set(SEVERITY.values())
    assert frame.loc[frame.kind == "renamed", "geometry"].notna().all()
    assert real_report.repaired.geom_type.eq("MultiPolygon").all()


# ---- hand-made cases, near Đồng Nai so the UTM zone is the same ----


def sq(x, y, size=0.01):
    return shapely.box(107 + x * size, 11 + y * size, 107 + (x + 1) * size, 11 + (y + 1) * size)


def units(rows):
    frame = pd.DataFrame([r[:4] for r in rows], columns=["code", "name", "level", "parent_code"])
    return gpd.GeoDataFrame(frame, geometry=[r[4] for r in rows], crs="EPSG:4326")


def codes(rows):
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"])


PARENT = ("1", "P", 1, None, shapely.box(107, 11, 107.03, 11.03))
CODES = codes([("1", "P", 1, None), ("11", "A", 2, "1"), ("12", "B", 2, "1"), ("13", "C", 2, "1")])


def test_bow_tie_is_repaired_and_reported():
    bow = shapely.Polygon([(107, 11), (107.01, 11.01), (107.01, 11), (107, 11.01), (107, 11)])
    assert not bow.is_valid
    report = check_boundaries(units([PARENT, ("11", "A", 2, "1", bow)]), CODES)
    [problem] = of_kind(report, "invalid_geometry")
    assert problem.code == "11" and "Self-intersection" in problem.detail
    fixed = report.repaired.geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(0.5 * 0.01 * 0.01)


def test_code_list_problems():
    rows = [
        PARENT,
        ("11", "A", 2, "1", sq(0, 0)),
        ("11", "A again", 2, "1", sq(1, 0)),
        ("99", "Stranger", 2, "1", sq(2, 0)),
        ("", "Nameless", 2, "1", sq(0, 1)),
        ("12", "B", 3, "1", sq(1, 1)),
        ("77", "Orphan", 2, "55", sq(2, 1)),
    ]
    extra = codes(
        [
            ("1", "P", 1, None),
            ("11", "A", 2, "1"),
            ("12", "B", 2, "1"),
            ("13", "C", 2, "1"),
            ("77", "Orphan", 2, "55"),
            ("88", "Lost", 2, "66"),
            ("4", "Hamlet", 4, "13"),
        ]
    )
    report = check_boundaries(units(rows), extra)
    assert [p.code for p in of_kind(report, "duplicate_code")] == ["11"]
    assert [p.code for p in of_kind(report, "unknown_code")] == ["99"]
    assert [(p.code, p.detail) for p in of_kind(report, "missing_code")] == [(None, "feature 4 (Nameless) has no code")]
    [mismatch] = of_kind(report, "level_mismatch")
    assert mismatch.code == "12" and "code list level 2" in mismatch.detail
    assert sorted((p.code, p.other_code) for p in of_kind(report, "missing_parent")) == [("77", "55"), ("88", "66")]
    # 13 and 88 are level 2, which has geometry; the level-4 code is not flagged because no hamlet geometry came
    assert sorted(p.code for p in of_kind(report, "missing_geometry")) == ["13", "88"]
    assert of_kind(report, "sibling_overlap") == [] and of_kind(report, "gap") == []


def test_overlap_outside_parent_and_threshold():
    rows = [
        PARENT,
        ("2", "Q", 1, None, shapely.box(107.03, 11, 107.06, 11.03)),
        ("11", "A", 2, "1", sq(0, 0, 0.02)),
        ("12", "B", 2, "2", shapely.affinity.translate(sq(0, 0, 0.02), 0.015)),
        ("13", "C", 2, "1", shapely.box(107, 11.02, 107.01, 11.021)),
    ]
    cl = codes(
        [("1", "P", 1, None), ("2", "Q", 1, None), ("11", "A", 2, "1"), ("12", "B", 2, "2"), ("13", "C", 2, "1")]
    )
    report = check_boundaries(units(rows), cl)
    [overlap] = of_kind(report, "sibling_overlap")
    assert (overlap.code, overlap.other_code) == ("11", "12") and "parents differ (1 / 2)" in overlap.detail
    assert overlap.geometry.area == pytest.approx(0.005 * 0.02)
    outside = {p.code: p.share for p in of_kind(report, "outside_parent")}
    assert outside == {"12": pytest.approx(0.75, rel=1e-3)}
    bigger = check_boundaries(units(rows), cl, min_area_m2=overlap.area_m2 + 1)
    assert of_kind(bigger, "sibling_overlap") == []


def test_touching_squares_do_not_overlap_and_hole_is_a_gap():
    ring = [
        ("1" + str(k), f"U{k}", 2, "1", sq(x, y))
        for k, (x, y) in enumerate([(x, y) for y in range(3) for x in range(3) if (x, y) != (1, 1)])
    ]
    cl = codes([("1", "P", 1, None)] + [(r[0], r[1], 2, "1") for r in ring] + [("19", "Centre", 2, "1")])
    report = check_boundaries(units([PARENT, *ring]), cl)
    assert of_kind(report, "sibling_overlap") == []
    [gap] = of_kind(report, "gap")
    assert gap.code == "1" and gap.level == 2
    assert gap.geometry.equals(shapely.MultiPolygon([sq(1, 1)]))
    assert gap.area_m2 == pytest.approx(1.2e6, rel=0.05)
    [coverage] = of_kind(report, "coverage")
    assert coverage.share == pytest.approx(1 / 9, rel=1e-3)
    assert [p.code for p in of_kind(report, "missing_geometry")] == ["19"]


def test_status_column_variants_and_no_crs():
    frame = units([PARENT, ("11", "A", 2, "1", sq(0, 0)), ("12", "B", 2, "1", sq(1, 0))])
    frame["status_2021"] = ["current", "dissolved_2019_2021", "renamed_2019_2021"]
    report = check_boundaries(frame, CODES)
    assert [p.code for p in of_kind(report, "dissolved")] == ["11"]
    assert [p.code for p in of_kind(report, "renamed")] == ["12"]
    with pytest.raises(BoundaryError, match="no CRS"):
        check_boundaries(gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame.geometry)), CODES)


# ---- grading by share, and swapped shapes ----


def column(x, width=1, height=2, size=0.01):
    """A unit `width` squares wide and `height` tall, its left edge x squares east of 107°."""
    return shapely.box(107 + x * size, 11, 107 + (x + width) * size, 11 + height * size)


def hierarchy(n_parents: int, parent_level: int = 2, shapes: dict | None = None, moved: dict | None = None):
    """A province of n_parents units (each two columns wide) at parent_level, each with two one-column children.

    shapes: parent code -> the column index its shape is taken from (a swap gives two parents each other's);
    moved: child code -> (x offset in columns, coded parent or None) to move a child or code it to another parent.
    Levels above parent_level are one unit covering everything. Returns (units, codes).
    """
    shapes, moved = shapes or {}, moved or {}
    rows: list[tuple[str, str, int, str | None, shapely.Polygon]] = [("1", "P", 1, None, column(0, 2 * n_parents))]
    if parent_level == 3:
        rows.append(("10", "D", 2, "1", column(0, 2 * n_parents)))
    top = rows[-1][0]
    for k in range(n_parents):
        code = f"{top}{k + 1}"
        rows.append((code, f"Unit {chr(65 + k)}", parent_level, top, column(2 * shapes.get(code, k), 2)))
        for j in range(2):
            child = f"{code}{j + 1}"
            dx, parent = moved.get(child, (0, None))
            rows.append((child, f"{chr(65 + k)}{j + 1}", parent_level + 1, parent or code, column(2 * k + j + dx)))
    return units(rows), codes([r[:4] for r in rows])


@pytest.mark.parametrize("share", [0.0015, 0.2, 0.49, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("parent_level", [2, 3])
def test_outside_parent_is_an_error_from_half_of_the_unit(share, parent_level):
    # B2, the east edge of the province, is pushed east: `share` of it lies outside B and outside the province
    frame, cl = hierarchy(2, parent_level, moved={f"{'1' if parent_level == 2 else '10'}22": (share, None)})
    report = check_boundaries(frame, cl)
    [finding] = of_kind(report, "outside_parent", level=parent_level + 1)
    assert finding.share == pytest.approx(share, rel=1e-3)
    assert finding.severity == ("error" if share >= 0.5 else "warning")
    assert of_kind(report, "swapped_geometry") == []
    entry = report.summary()["outside_parent"]
    assert entry["severity"] == finding.severity and entry["by_severity"] == {finding.severity: 1}
    assert [p.to_dict()["severity"] for p in of_kind(report, "outside_parent")] == [finding.severity]
    assert report.problems_frame().query("kind == 'outside_parent'")["severity"].tolist() == [finding.severity]


def test_a_unit_coded_to_another_parent_is_an_error_naming_where_it_lies():
    # A2 lies in A's shape, but the code list puts it under B: 100 % outside its coded parent, all of it in A
    frame, cl = hierarchy(2, moved={"112": (0, "12")})
    report = check_boundaries(frame, cl)
    [finding] = of_kind(report, "outside_parent")
    assert (finding.code, finding.other_code, finding.severity) == ("112", "12", "error")
    assert finding.share == pytest.approx(1.0)
    assert "100.0% of it lies in Unit A (11)" in finding.detail
    assert of_kind(report, "swapped_geometry") == []  # B still holds most of its own children
    assert [p.code for p in report.errors] == ["112"]


@pytest.mark.parametrize("parent_level", [2, 3])
def test_two_parents_with_each_others_shapes_look_swapped(parent_level):
    top = "1" if parent_level == 2 else "10"
    a, b = f"{top}1", f"{top}2"
    frame, cl = hierarchy(3, parent_level, shapes={a: 1, b: 0})
    report = check_boundaries(frame, cl)
    [swap] = of_kind(report, "swapped_geometry")
    assert (swap.code, swap.other_code, swap.level, swap.severity) == (a, b, parent_level, "error")
    assert swap.detail.startswith(f"the geometries of {a} (Unit A) and {b} (Unit B) look swapped")
    assert swap.share == pytest.approx(1.0)
    assert swap.geometry.area == pytest.approx(column(0, 4).area)  # both shapes
    # every child of the two is outside its coded parent, all of it in the other; C's are not
    outside = {p.code: p for p in of_kind(report, "outside_parent")}
    assert set(outside) == {f"{a}1", f"{a}2", f"{b}1", f"{b}2"}
    assert all(p.severity == "error" and p.share == pytest.approx(1.0) for p in outside.values())
    assert "of it lies in Unit B" in outside[f"{a}1"].detail
    assert report.summary()["swapped_geometry"] == {
        "severity": "error",
        "count": 1,
        "by_severity": {"error": 1},
        "by_level": {parent_level: 1},
    }


def test_three_parents_with_rotated_shapes_look_permuted():
    frame, cl = hierarchy(3, shapes={"11": 1, "12": 2, "13": 0})
    [cycle] = of_kind(check_boundaries(frame, cl), "swapped_geometry")
    # A's children lie where C's shape now is, C's where B's is, B's where A's is
    assert cycle.detail.startswith("the geometries of 11 (Unit A), 13 (Unit C) and 12 (Unit B) look permuted")
    assert "100% of 11 (Unit A)'s children lie in 13 (Unit C)'s shape" in cycle.detail
    assert "100% of 12 (Unit B)'s children lie in 11 (Unit A)'s shape" in cycle.detail


def test_a_misplaced_shape_is_not_a_swap():
    # A's shape is drawn east of the province: it and its children are outside their parents, but A's children lie
    # in no other unit's shape
    frame, cl = hierarchy(3, shapes={"11": 5})
    report = check_boundaries(frame, cl)
    assert of_kind(report, "swapped_geometry") == []
    assert {p.code for p in of_kind(report, "outside_parent") if p.severity == "error"} == {"11", "111", "112"}


def test_real_data_has_no_errors_and_its_worst_commune_is_a_warning(real_report):
    assert real_report.errors == []
    worst = max(of_kind(real_report, "outside_parent"), key=lambda p: p.share)
    assert worst.severity == "warning" and worst.share < real_report.parameters["outside_share_error"]
    assert "lies in Huyện Long Thành (740)" in worst.detail
