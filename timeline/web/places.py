"""Place search and reverse geocoding from the offline gazetteer (``geodata``), kept thin.

Its routes are added to this blueprint; the index and the matching live in ``geodata``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("places", __name__)
