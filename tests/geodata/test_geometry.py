"""GeoJSON geometry validation (RFC 7946), without Flask."""

import itertools
import math

import pytest

from geodata.geometry import GeometryError, geometry_intersects_box, parse_bbox, parse_geometry


def ring(*points):
    return [list(p) for p in points]


CW_SQUARE = ring((0, 0), (0, 1), (1, 1), (1, 0), (0, 0))
CCW_SQUARE = ring((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [35.27, 51.19]},
        {"type": "Point", "coordinates": [35.27, 51.19, 170.0]},
        {"type": "MultiPoint", "coordinates": [[35.27, 51.19], [36.18, 51.73]]},
        {"type": "LineString", "coordinates": [[130.30, 42.25], [132.35, 42.89]]},
        {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
        {"type": "Polygon", "coordinates": [CCW_SQUARE]},
        {"type": "MultiPolygon", "coordinates": [[CCW_SQUARE], [ring((5, 5), (6, 5), (6, 6), (5, 5))]]},
        {"type": "Point", "coordinates": [-180, -90]},
        {"type": "Point", "coordinates": [180, 90]},
    ],
)
def test_valid_geometries_are_accepted(geometry):
    parsed = parse_geometry(geometry)
    assert parsed.geojson["type"] == geometry["type"]


def test_bbox_is_computed():
    parsed = parse_geometry({"type": "LineString", "coordinates": [[130.30, 42.25], [132.35, 42.89]]})
    assert parsed.bbox.as_list() == [130.30, 42.25, 132.35, 42.89]


def test_clockwise_exterior_ring_is_turned_counter_clockwise():
    parsed = parse_geometry({"type": "Polygon", "coordinates": [CW_SQUARE]})
    exterior = parsed.geojson["coordinates"][0]
    signed_area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(exterior))
    assert signed_area > 0  # counter-clockwise
    assert sorted(map(tuple, exterior[:-1])) == sorted(map(tuple, CCW_SQUARE[:-1]))


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Point", "coordinates": [181, 10]}, "outside -180..180"),
        ({"type": "Point", "coordinates": [10, -91]}, "outside -90..90"),
        ({"type": "Point", "coordinates": [math.nan, 10]}, "finite"),
        ({"type": "Point", "coordinates": [math.inf, 10]}, "finite"),
        ({"type": "Point", "coordinates": ["35", "51"]}, "non-number"),
        ({"type": "Point", "coordinates": [True, 51]}, "non-number"),
        ({"type": "Point", "coordinates": [35]}, r"\[lon, lat\]"),
        ({"type": "Point", "coordinates": [[35, 51], [36, 52]]}, "non-number"),
        ({"type": "Point"}, "no coordinates"),
        ({"type": "Circle", "coordinates": [0, 0]}, "geometry type must be one of"),
        ({"type": "GeometryCollection", "geometries": []}, "geometry type must be one of"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "at least 2 positions"),
        ({"type": "Polygon", "coordinates": [ring((0, 0), (1, 0), (1, 1), (0, 1))]}, "not closed"),
        ({"type": "Polygon", "coordinates": [ring((0, 0), (1, 0), (0, 0))]}, "at least 4 positions"),
        ({"type": "Polygon", "coordinates": []}, "exterior ring"),
        (
            {"type": "Polygon", "coordinates": [ring((0, 0), (1, 1), (1, 0), (0, 1), (0, 0))]},
            "Self-intersection",
        ),
        ({"type": "MultiPoint", "coordinates": []}, "no points"),
        ("POINT (1 2)", "GeoJSON geometry object"),
        (None, "GeoJSON geometry object"),
    ],
)
def test_invalid_geometries_are_refused_with_a_reason(geometry, reason):
    with pytest.raises(GeometryError, match=reason):
        parse_geometry(geometry)


def test_bbox_parameter_checks():
    assert parse_bbox([34, 50, 37, 52]).as_list() == [34, 50, 37, 52]
    assert parse_bbox([170, -10, -170, 10]).min_lon == 170  # crosses the antimeridian
    with pytest.raises(GeometryError, match="4 numbers"):
        parse_bbox([1, 2, 3])
    with pytest.raises(GeometryError, match="minLat is greater"):
        parse_bbox([0, 10, 1, 5])
    with pytest.raises(GeometryError, match="outside"):
        parse_bbox([0, 0, 200, 1])


def test_exact_intersection_for_lines():
    # An L-shaped line whose box covers (0.5, 0.5) but which does not pass near it.
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 0], [1, 1]]}
    assert not geometry_intersects_box(line, (0.2, 0.4, 0.6, 0.8))
    assert geometry_intersects_box(line, (0.9, 0.4, 1.1, 0.6))


def test_the_databases_test_on_stored_text_agrees_with_the_exact_test():
    """The SQL function reads the stored text through GEOS directly; it must answer as the dict path."""
    import json
    import random

    from geodata.geometry import stored_geometry_intersects_box

    holed = {  # a square with a square hole: a box inside the hole does not touch it
        "type": "Polygon",
        "coordinates": [
            ring((0, 0), (4, 0), (4, 4), (0, 4), (0, 0)),
            ring((1, 1), (1, 3), (3, 3), (3, 1), (1, 1)),
        ],
    }
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 0], [1, 1]]}
    multi = {"type": "MultiPoint", "coordinates": [[0, 0], [2, 2]]}
    rng = random.Random(3)
    boxes = [(1.5, 1.5, 2.5, 2.5), (0.2, 0.4, 0.6, 0.8), (4, 4, 5, 5), (-1, -1, -0.01, -0.01)]
    for _ in range(200):
        x, y = rng.uniform(-1, 5), rng.uniform(-1, 5)
        boxes.append((x, y, x + rng.uniform(0, 1.5), y + rng.uniform(0, 1.5)))
    answers = set()
    for geometry in (holed, line, multi):
        stored = json.dumps(parse_geometry(geometry).geojson)
        for box in boxes:
            expected = geometry_intersects_box(geometry, box)
            assert stored_geometry_intersects_box(stored, box) == expected, (geometry["type"], box)
            answers.add(expected)
    assert answers == {True, False}
    assert not stored_geometry_intersects_box(json.dumps(holed), (1.5, 1.5, 2.5, 2.5))
    assert stored_geometry_intersects_box(json.dumps(holed), (4, 4, 5, 5))  # touching a corner counts
