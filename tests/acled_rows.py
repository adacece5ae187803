"""An ACLED export table for tests, as acleddata.com writes one (the facts are the story's)."""

import csv
import io

from timeline.formats.acled import COLUMNS


def acled_table(*rows: dict[str, str], columns=COLUMNS) -> bytes:
    """An ACLED export as acleddata.com writes it: every column, ISO dates, CRLF."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in columns})
    return out.getvalue().encode()


SUDZHA = {
    "event_id_cnty": "RUS12345", "event_date": "2024-08-06", "year": "2024", "time_precision": "1",
    "disorder_type": "Political violence", "event_type": "Battles", "sub_event_type": "Armed clash",
    "actor1": "Military Forces of Ukraine (2019-)",
    "assoc_actor_1": "Freedom of Russia Legion; Russian Volunteer Corps",
    "inter1": "8", "actor2": "Military Forces of Russia (2000-)", "inter2": "8", "interaction": "88",
    "civilian_targeting": "", "iso": "643", "region": "Europe", "country": "Russia", "admin1": "Kursk",
    "admin2": "Sudzhanskiy", "admin3": "", "location": "Sudzha", "latitude": "51.1917",
    "longitude": "35.2708", "geo_precision": "1", "source": "Meduza; Ukrainska Pravda",
    "source_scale": "National", "notes": "On 6 August 2024, Ukrainian forces crossed into Kursk region.",
    "fatalities": "0", "tags": "", "timestamp": "1723500000",
}  # fmt: skip
