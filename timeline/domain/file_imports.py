"""A file of any readable format imported as events: the one path the CLI, the admin upload page
and ``POST /api/imports`` share.

GeoJSON is streamed into the importer as it is read, and so are CSV and ACLED tables, a row at a
time. The GIS formats are read by their reader (``timeline.formats``) into a FeatureCollection
first, handed to the importer as it is (not written as JSON and parsed again), so each row or
feature goes through the same checks and the same all-or-nothing write. What the reader noticed
(a reprojection) and, for ACLED, the events an earlier file brought that this one lacks, come back
with the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from timeline.domain.datasets import Missing, missing_from_file
from timeline.domain.importing import (
    ImportRejected,
    ImportReport,
    ProgressCallback,
    import_features,
    import_stream,
)
from timeline.formats import FORMATS, Format, UnknownFormat, by_file_name, by_media_type, sniffed
from timeline.formats import acled as acled_format
from timeline.formats.csv_table import TableRejected, TableStream, table_stream
from timeline.formats.geojson import CollectionStream
from timeline.store.db import DbSession
from timeline.store.models import User

# Formats whose problems are numbered by table row (the header is row 1).
TABLES = ("csv", "acled")


@dataclass
class FileImport:
    """What importing one file did, or (dry run) would do."""

    format: str
    report: ImportReport
    notes: list[str] = field(default_factory=list)  # in English, for the CLI and the API
    reprojected_from: str | None = None  # the file's CRS, which the upload page words itself
    missing: Missing | None = None  # ACLED: earlier events of the file's countries it lacks

    def lines(self) -> list[str]:
        """The report as a person reads it (the CLI prints these)."""
        out = self.report.lines() + list(self.notes)
        if self.missing and self.missing.count:
            missing = self.missing
            shown = ", ".join(missing.ids) + (" …" if missing.count > len(missing.ids) else "")
            out.append(
                f"{missing.count} events from earlier ACLED files for {', '.join(missing.countries)} are not "
                f"in this file (ACLED removed or merged them); they were kept: {shown}"
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """The report as the API answers it."""
        report = self.report
        return {
            "format": self.format,
            "dry_run": report.dry_run,
            "features": report.features,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "new_categories": report.new_categories,
            "unknown_properties": report.unknown_counts,
            "notes": self.notes,
            "missing_from_file": {"count": self.missing.count, "ids": self.missing.ids}
            if self.missing
            else None,
        }


class FileRejected(ValueError):
    """Nothing was imported; ``problems`` names each bad row or feature (with its number)."""

    def __init__(self, summary: str, problems: list[str], *, not_readable: bool = False):
        super().__init__(summary)
        self.summary = summary
        self.problems = problems
        # The file is not what it claims to be (or no format reads it): a 415 rather than a 422.
        self.not_readable = not_readable


def format_for(name: str | None = None, media_type: str | None = None, head: bytes = b"") -> Format:
    """The readable format named, or of a file name or media type (an ACLED header is told apart
    from a plain CSV); :class:`UnknownFormat` when none reads it."""
    fmt = None
    if name in FORMATS:
        fmt = FORMATS[name]
    elif name:
        fmt = by_file_name(name)
    elif media_type:
        fmt = by_media_type(media_type)
    if fmt is None or fmt.read is None:
        raise UnknownFormat(name or media_type or "")
    return sniffed(fmt, head) if name not in FORMATS else fmt


def import_file(
    session: DbSession,
    source: IO[bytes],
    fmt: Format,
    user: User | None = None,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    mapping: dict[str, str] | None = None,
) -> FileImport:
    """Import ``source`` read as ``fmt``, all or nothing; :class:`FileRejected` if any of it is bad.

    ``mapping`` (CSV only) names the table's column for each event column it holds."""
    if mapping and fmt.name != "csv":
        raise FileRejected(f"a column mapping applies to CSV tables, not to {fmt.name}", [])
    collection: dict[str, Any] | None = None
    table: TableStream | None = None
    try:
        if fmt.name == "geojson":
            report = import_stream(session, source, user, dry_run=dry_run, progress=progress)
        elif fmt.name in TABLES:
            table = (
                acled_format.acled_stream(source) if fmt.name == "acled" else table_stream(source, mapping)
            )
            report = import_features(session, table, user, dry_run=dry_run, progress=progress)
        else:
            assert fmt.read is not None
            collection = fmt.read(source.read())
            report = import_features(
                session, CollectionStream(collection), user, dry_run=dry_run, progress=progress
            )
    except TableRejected as exc:
        unreadable = not exc.problems and ("cannot be read" in exc.summary or "not a zip" in exc.summary)
        raise FileRejected(exc.summary, [str(p) for p in exc.problems], not_readable=unreadable) from None
    except ImportRejected as exc:
        problems = [str(p) for p in exc.problems]
        if table is not None:
            problems = [_as_row(p, table) for p in exc.problems]
        raise FileRejected(exc.summary, problems, not_readable=not exc.problems) from None
    read = collection or {}
    result = FileImport(
        fmt.name, report, notes=list(read.get("notes", [])), reprojected_from=read.get("reprojected_from")
    )
    if isinstance(table, acled_format.AcledStream):
        result.missing = missing_from_file(
            session, acled_format.EXTERNAL_PREFIX, table.countries, table.external_ids
        )
    return result


def _as_row(problem: Any, table: TableStream) -> str:
    """A feature's problem said by its table row (the header is row 1)."""
    text = str(problem)
    prefix = f"feature {problem.index}"
    if not text.startswith(prefix) or problem.index < 0:
        return text
    return f"row {table.row_of(problem.index)}" + text[len(prefix) :]
