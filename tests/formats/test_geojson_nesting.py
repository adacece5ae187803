"""How deep a GeoJSON document may nest, read whole or feature by feature: MAX_NESTING levels in
all (a scalar is one level, ``[1]`` two), so that nothing downstream recurses without bound. The
streamed reader checks each feature as it comes, counting the two levels above it (the collection
and its ``features`` array)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from timeline.formats.geojson import MAX_NESTING, FeatureStream, UnreadableDocument, load_json


def nested(levels: int) -> Any:
    """A value ``levels`` deep: lists inside lists around a scalar."""
    value: Any = 1
    for _ in range(levels - 1):
        value = [value]
    return value


def collection(feature_levels: int) -> bytes:
    """A FeatureCollection whose one feature nests ``feature_levels`` deep (in an attribute)."""
    feature = {
        "type": "Feature",
        "geometry": None,
        "properties": {"attributes": {"x": nested(feature_levels - 3)}},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def test_a_document_at_the_limit_is_read_and_one_level_more_is_refused():
    assert load_json(json.dumps(nested(MAX_NESTING)))
    assert load_json(json.dumps({"a": [nested(MAX_NESTING - 2), [], {}]}))
    with pytest.raises(UnreadableDocument, match="nested too deeply"):
        load_json(json.dumps(nested(MAX_NESTING + 1)))
    with pytest.raises(UnreadableDocument, match="nested too deeply"):
        load_json(json.dumps({"a": [1, "x", {"b": nested(MAX_NESTING - 2)}]}))


@pytest.mark.parametrize(("levels", "refused"), [(MAX_NESTING - 2, False), (MAX_NESTING - 1, True)])
def test_a_streamed_feature_counts_the_two_levels_above_it(levels, refused):
    stream = FeatureStream(io.BytesIO(collection(levels)))
    if refused:
        with pytest.raises(UnreadableDocument, match="nested too deeply"):
            list(stream.features())
    else:
        assert len(list(stream.features())) == 1
