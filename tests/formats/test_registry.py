"""The formats registry: found by name, extension and media type; GeoJSON written and read back."""

import json

import pytest

from timeline.formats import FORMATS, UnknownFormat, by_extension, by_media_type, by_name
from timeline.formats.geojson import UnreadableDocument, load_json, write_collection


def test_every_format_is_found_by_its_name_extension_and_media_type():
    for name, fmt in FORMATS.items():
        assert by_name(name) is fmt
        for ext in fmt.extensions:
            assert by_extension(ext) is fmt
            assert by_extension("." + ext.upper()) is fmt
        assert by_media_type(fmt.media_type + "; charset=utf-8") is fmt


@pytest.mark.parametrize(
    "lookup, value", [(by_name, "shp"), (by_extension, "xlsx"), (by_media_type, "text/html")]
)
def test_an_unknown_format_is_refused(lookup, value):
    with pytest.raises(UnknownFormat):
        lookup(value)


def test_the_geojson_writer_streams_a_collection_that_reads_back():
    features = [
        {"type": "Feature", "id": f"e{i}", "geometry": None, "properties": {"n": i}} for i in range(5)
    ]
    encoded = [json.dumps(f).encode() for f in features]
    chunks = list(write_collection([encoded[:2], [], encoded[2:]]))
    assert len(chunks) > 2  # written batch by batch, not as one string
    assert load_json(b"".join(chunks)) == {"type": "FeatureCollection", "features": features}


def test_an_empty_export_is_a_valid_empty_collection():
    assert load_json(b"".join(write_collection([]))) == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "[" * 100 + "]" * 100, "{", b"\xff"])
def test_the_geojson_reader_refuses_what_is_not_strict_json(text):
    with pytest.raises(UnreadableDocument):
        load_json(text)
