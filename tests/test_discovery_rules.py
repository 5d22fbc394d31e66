"""Catalog discovery rules: value detectors, column-name vocabulary, suggestions, the draft."""

from __future__ import annotations

from datetime import date

import pytest

from audits.discovery import values as v
from audits.discovery.draft import FoundTable, build_draft
from audits.discovery.names import name_rule, words
from audits.discovery.suggest import suggest

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "check, yes, no",
    [
        (
            v.is_email,
            ["ada.smith.42@example.com", "o'neil+x@mail.co.uk"],
            ["ada@", "a b@x.com", "x@y", "@example.com"],
        ),
        (
            v.is_phone,
            ["+1-555-0123456", "+49 30 1234567", "(030) 123-4567", "0049301234567"],
            ["12345", "1234567890", "2026-11-22", "+1"],
        ),
        # DE89 3704 0044 0532 0130 00 is the standard published example IBAN
        (
            v.is_iban,
            ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"],
            ["DE88370400440532013000", "DE12500112345678901", "XX"],
        ),
        (
            v.is_card,
            ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
            ["4111111111111112", "1234567812345678", "0000000000000000", "4111"],
        ),
        (v.is_ipv4, ["192.168.0.1", "8.8.8.8"], ["256.1.1.1", "1.2.3", "10.0.0.1.5"]),
        (
            v.is_ipv6,
            ["2001:db8::1", "::1", "fe80::1ff:fe23:4567:890a"],
            ["2001:db8::g", "12:30", "1.2.3.4"],
        ),
        (
            v.birth_date_check(TODAY),
            ["1980-04-17", "17/04/1980", "01.12.1950"],
            ["2020-01-01", "1880-01-01", "1980-02-30", "1980-04-17 10:00:00"],
        ),
        (
            v.is_person_name,
            ["Ada Smith", "Maria José Garcia", "Hugo Okafor"],
            ["ada smith", "Ada", "Berlin Mitte", "Acme Trading Ltd Co"],
        ),
        (
            v.is_postal_code,
            ["10115", "94105-1234", "SW1A 1AA", "K1A 0B1", "1015 CJ", "00-950"],
            ["1234567", "ABCDE", "12.345"],
        ),
    ],
)
def test_each_detector_matches_its_shape_and_nothing_else(check, yes, no):
    assert [check(t) for t in yes] == [True] * len(yes)
    assert [check(t) for t in no] == [False] * len(no)


def test_a_sixteen_digit_number_failing_luhn_is_not_a_card():
    assert v.luhn("4111111111111111") and not v.luhn("4111111111111113")
    assert not v.is_card("4111111111111113")


def test_count_matches_counts_non_blank_values_only():
    matched, sampled = v.count_matches(
        ["ada@example.com", None, " ", "nope", "ben@example.org"], ["email", "phone"], TODAY
    )
    assert (matched, sampled) == ({"email": 2, "phone": 0}, 3)


@pytest.mark.parametrize(
    "name, category",
    [
        ("EmailAddress", "user.contact.email"),
        ("customer_id", "user.unique_id"),
        ("ShipPostalCode", "user.contact.address.postal_code"),
        ("date_of_birth", "user.demographic.date_of_birth"),
        ("ip_address", "user.device.ip_address"),
        ("card_last4", "user.financial.card"),
        ("post_text", "user.content"),
        ("MaritalStatus", "user.demographic.marital_status"),
        ("n_emails", None),
        ("email_verified", None),
        ("card_brand", None),
        ("created_at", None),
        ("city", None),
        ("name", None),
        ("account_name", None),
        ("session_id", None),
    ],
)
def test_name_vocabulary(name, category):
    rule = name_rule(name)
    assert (rule.category if rule else None) == category


def test_words_split_camel_case_and_separators():
    assert words("ShipPostalCode") == ["ship", "postal", "code"]
    assert words("e-mail Address") == ["e", "mail", "address"]


def test_a_hash_keeps_the_category_and_names_the_hash_of_an_identifier():
    assert name_rule("customer_id_sha256").hash == "sha256_hex"
    rule = name_rule("email_sha256")
    assert (rule.category, rule.hash, rule.hashed) == ("user.contact.email", None, True)


def test_name_and_values_agreeing_raise_the_confidence():
    s = suggest("email", {"email": (98, 100), "phone": (0, 100)})
    assert s.category == "user.contact.email" and s.confidence == 1.0
    assert {"source": "values", "detector": "email", "matched": 98, "sampled": 100} in s.evidence
    assert s.classification == "confidential"


def test_values_alone_suggest_a_specific_detector_but_not_a_weak_one():
    assert suggest("col_7", {"iban": (40, 40)}).category == "user.financial.bank_account"
    assert suggest("col_7", {"postal_code": (40, 40)}).category is None  # five digits: weak
    assert suggest("col_7", {"card": (10, 40)}).category is None  # a quarter: not enough


def test_values_of_another_shape_lower_a_name_rule():
    plain = suggest("email").confidence
    contradicted = suggest("email", {"email": (0, 50)})
    assert contradicted.category == "user.contact.email" and contradicted.confidence < plain
    assert (
        suggest("email_sha256", {"email": (0, 50)}).confidence == name_rule("email_sha256").strength
    )


def test_strong_values_win_over_a_different_name():
    s = suggest("contact", {"email": (50, 50)})
    assert s.category == "user.contact.email"
    s = suggest("phone", {"email": (50, 50)})
    assert s.category == "user.contact.email" and s.confidence == round(0.95 * 0.9, 2)


def _place(name):
    return "unassigned", "unassigned"


def test_draft_never_overwrites_reviewed_entries():
    found = [
        FoundTable("crm.people", (("email", "string"), ("phone", "string")), ("delta",)),
        FoundTable("app.users", (("user_id", "bigint"), ("full_name", "string")), ("delta",)),
    ]
    existing = {
        "retention_days": {"user": 365},
        "assets": [
            {
                "name": "crm.people",
                "kind": "table",
                "owner": "crm",
                "zone": "source",
                "columns": [{"name": "email", "type": "string", "data_category": None}],
            }
        ],
    }
    previous = {
        "assets": [
            {
                "name": "app.users",
                "kind": "table",
                "owner": "app-team",
                "zone": "source",
                "columns": [
                    {
                        "name": "full_name",
                        "type": "string",
                        "data_category": "user.content",
                        "discovery": {"reviewed": True},
                    },
                    {
                        "name": "user_id",
                        "type": "bigint",
                        "data_category": None,
                        "discovery": {"reviewed": False},
                    },
                ],
            }
        ]
    }
    doc, summary = build_draft(found, existing, previous, _place)
    people, users = doc["assets"]
    assert doc["retention_days"] == {"user": 365}
    assert people["columns"][0] == {"name": "email", "type": "string", "data_category": None}
    assert people["columns"][1]["data_category"] == "user.contact.phone_number"
    assert (users["owner"], users["zone"]) == ("app-team", "source")
    cols = {c["name"]: c for c in users["columns"]}
    assert cols["full_name"]["data_category"] == "user.content"  # reviewed: kept
    assert cols["user_id"]["data_category"] == "user.unique_id"  # not reviewed: suggested again
    assert cols["user_id"]["is_identifier"] is True
    assert (summary.tables, summary.columns, summary.suggested, summary.reviewed_kept) == (
        2,
        4,
        2,
        2,
    )


def test_a_table_not_read_is_in_the_draft_with_its_reason():
    found = [FoundTable("x.broken", (), ("parquet",), read=False, reason="unreadable: boom")]
    doc, summary = build_draft(found, None, None, _place)
    assert doc["assets"][0]["discovery"]["reason"] == "unreadable: boom"
    assert doc["assets"][0]["discovery"]["read"] is False
    assert summary.not_read == ["x.broken"]
