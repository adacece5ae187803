"""Categories: how an event is classed and coloured, and the slugs features and filters carry."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from timeline.store.db import DbSession
from timeline.store.models import Category

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LABEL_LENGTH = 200
# The interface languages a category can have its own label in, besides the base label (which
# exports carry, and every other language shows).
LABEL_LANGUAGES = ("de",)
# Distinct, colour-blind-friendly hues (Okabe-Ito and Tol) for categories an import brings in.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#117733", "#999933")


def ensure_categories(session: DbSession, slugs: set[str]) -> list[str]:
    """Create the categories that do not exist yet; return their slugs."""
    known = set(session.scalars(select(Category.slug).where(Category.slug.in_(slugs))))
    created = sorted(slugs - known)
    for slug in created:
        session.add(Category(slug=slug, label=slug.replace("-", " ").capitalize(), colour=colour_for(slug)))
    return created


def colour_for(slug: str) -> str:
    """A stable colour per slug, so the same category looks the same on every instance."""
    digest = hashlib.sha256(slug.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def category_json(category: Category, lang: str | None) -> dict[str, object]:
    """A category as the API lists it: its label in ``lang`` (else the base label), the base label,
    and every label it has by language, so a client can switch languages without asking again."""
    return {
        "slug": category.slug,
        "label": category.label_in(lang),
        "base_label": category.label,
        "labels": dict(category.labels or {}),
        "colour": category.colour,
    }


def set_labels(category: Category, labels: dict[str, str]) -> None:
    """Replace the per-language labels a form edits: an empty one is removed (the base label shows)."""
    kept = {k: v for k, v in (category.labels or {}).items() if k not in LABEL_LANGUAGES}
    kept.update({lang: text for lang, text in labels.items() if lang in LABEL_LANGUAGES and text})
    category.labels = kept  # a new dict, so the JSON column is written
