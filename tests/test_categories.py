"""The one category-prefix rule (core.categories) and the settings that use it."""

from __future__ import annotations

import pytest

from audits.retention import category_retention
from core.categories import covers, most_specific
from jobs.config.catalog import retention_for
from reports.datamap import retention_for as datamap_retention

SETTINGS = {"user": 1095, "User.Contact": 730, "user.contact.email": 365, "": 30}


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("user.contact.email", 365),
        ("USER.CONTACT.EMAIL ", 365),  # case and blanks ignored in the category
        ("user.contact.phone", 730),  # ... and in the keys
        ("user.contactless", 1095),  # whole segments only
        ("system.log", 30),  # the catch-all
        ("", None),
        (None, None),
    ],
)
def test_most_specific_prefix(category, expected):
    assert most_specific(SETTINGS, category) == expected
    # every place that maps a category to its retention answers the same
    assert retention_for(SETTINGS, category) == expected
    assert category_retention(category, SETTINGS) == expected
    assert datamap_retention(category, SETTINGS) == expected


def test_covers():
    assert covers("user", "user.contact") and covers("", "x")
    assert not covers("user.contact", "user.contactless") and not covers("", None)
