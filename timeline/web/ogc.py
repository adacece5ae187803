"""OGC API – Features under ``/ogc``: the events collection for GDAL, QGIS, OWSLib and geopandas.

Its routes are added to this blueprint; the query work stays in the store, as for the JSON API.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
