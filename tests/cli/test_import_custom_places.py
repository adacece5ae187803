"""``timeline places import-custom FILE.csv`` adds a table of villages as custom places, all or
nothing, each with its revision; a bad row refuses the file by line, and a second import of the
same file adds nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.place_models import CustomPlace, CustomPlaceRevision

HEADER = "name,alternate_names,name_ru,name_uk,lat,lon,country,region_code,precision_km,source\n"
ROWS = [
    'Zarechnoye Pole,Sarechnoje Pole,Заречное Поле,,51.2051,35.3123,RU,RU-KRS,2,"field survey, 2024"\n',
    "Nizhnyaya Vetka,,Нижняя Ветка,Нижня Гілка,51.10,35.20,RU,,5,https://example.org/map\n",
]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_table_is_imported_once_with_revisions(app, runner, tmp_path: Path) -> None:
    table = tmp_path / "villages.csv"
    table.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    result = runner.invoke(args=["places", "import-custom", str(table)])
    assert result.exit_code == 0, result.output
    assert "added 2 custom places, skipped 0" in result.output
    with app.app_context():
        places = {p.name: p for p in db.session.scalars(select(CustomPlace))}
        assert set(places) == {"Zarechnoye Pole", "Nizhnyaya Vetka"}
        assert places["Nizhnyaya Vetka"].alternate_names == ["Нижняя Ветка", "Нижня Гілка"]
        assert places["Zarechnoye Pole"].source == "field survey, 2024"
    assert _count(app, CustomPlaceRevision) == 2
    again = runner.invoke(args=["places", "import-custom", str(table)])
    assert again.exit_code == 0 and "added 0 custom places, skipped 2" in again.output
    assert _count(app, CustomPlace) == 2


def test_one_bad_row_refuses_the_whole_table(app, runner, tmp_path: Path) -> None:
    table = tmp_path / "villages.csv"
    table.write_text(HEADER + ROWS[0] + "Broken,,,,95,35,RU,,,\n", encoding="utf-8")
    result = runner.invoke(args=["places", "import-custom", str(table)])
    assert result.exit_code != 0
    assert "line 3" in result.output and "lat" in result.output and "source" in result.output
    assert _count(app, CustomPlace) == 0
    unknown = runner.invoke(args=["places", "import-custom", str(table), "--user", "nobody"])
    assert unknown.exit_code != 0 and "no user named" in unknown.output
