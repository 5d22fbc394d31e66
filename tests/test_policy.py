"""Policy zones: violations with their paths, policy parsing, and new flows."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from lineage.policy import Policy, PolicyError, new_flows, parse_policies, policy_violations

REL = "crm.customers.religion"
EMAIL = "crm.customers.email"
PHONE = "crm.customers.phone"
RELIGION = "user.demographic.religious_belief"

CLOSURE_SCHEMA = (
    "source string, node string, depth int, confidence double, path array<string>, "
    "data_category string"
)
VIOLATION_SCHEMA = (
    "policy string, data_category string, source string, node string, zone string, depth int, "
    "confidence double, path array<string>"
)

POLICIES = [
    {"name": "religion-in-dating", "data_categories": [RELIGION], "allowed_zones": ["dating"]},
    {
        "name": "contact-not-ads",
        # Two prefixes of the same category: still one row per flow.
        "data_categories": ["user.contact", "user.contact.email"],
        "allowed_zones": ["crm", "marketing"],
    },
]


@pytest.fixture(scope="module")
def flows(spark):
    return spark.createDataFrame(
        [
            (REL, "dating.profiles.religion", 1, 1.0, [REL, "dating.profiles.religion"], RELIGION),
            (
                REL,
                "ads.targeting.segment",
                2,
                0.8,
                [REL, "stg.x.r", "ads.targeting.segment"],
                RELIGION,
            ),
            (REL, "tmp.scratch.x", 1, 0.5, [REL, "tmp.scratch.x"], RELIGION),
            (REL, "ads.targeting.safe_col", 1, 1.0, [REL, "ads.targeting.safe_col"], RELIGION),
            (REL, "ads.targeting", 1, 1.0, [REL, "ads.targeting"], RELIGION),
            (
                EMAIL,
                "ads.targeting.email_hash",
                1,
                0.9,
                [EMAIL, "ads.targeting.email_hash"],
                "user.contact.email",
            ),
            (
                EMAIL,
                "marketing.mail.to",
                1,
                1.0,
                [EMAIL, "marketing.mail.to"],
                "user.contact.email",
            ),
            (
                PHONE,
                "ads.targeting.phone",
                1,
                1.0,
                [PHONE, "ads.targeting.phone"],
                "user.contacts.phone",
            ),
        ],
        CLOSURE_SCHEMA,
    )


@pytest.fixture(scope="module")
def zones(spark):
    return spark.createDataFrame(
        [
            ("dating.profiles", "dating"),
            ("ads.targeting", "ads"),
            ("ads.targeting.safe_col", "dating"),
            ("marketing.mail", "marketing"),
            ("crm.customers", "crm"),
        ],
        "asset string, zone string",
    )


def _eq(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


SEGMENT = (
    "religion-in-dating",
    RELIGION,
    REL,
    "ads.targeting.segment",
    "ads",
    2,
    0.8,
    [REL, "stg.x.r", "ads.targeting.segment"],
)
TABLE = (
    "religion-in-dating",
    RELIGION,
    REL,
    "ads.targeting",
    "ads",
    1,
    1.0,
    [REL, "ads.targeting"],
)
SCRATCH = (
    "religion-in-dating",
    RELIGION,
    REL,
    "tmp.scratch.x",
    None,
    1,
    0.5,
    [REL, "tmp.scratch.x"],
)
HASH = (
    "contact-not-ads",
    "user.contact.email",
    EMAIL,
    "ads.targeting.email_hash",
    "ads",
    1,
    0.9,
    [EMAIL, "ads.targeting.email_hash"],
)


def test_violations_with_paths_and_unzoned_nodes(spark, flows, zones):
    got = policy_violations(flows, zones, POLICIES)
    _eq(got, spark.createDataFrame([SEGMENT, TABLE, SCRATCH, HASH], VIOLATION_SCHEMA))


def test_unzoned_nodes_can_be_ignored(spark, flows, zones):
    got = policy_violations(flows, zones, POLICIES, unzoned="ignore")
    _eq(got, spark.createDataFrame([SEGMENT, TABLE, HASH], VIOLATION_SCHEMA))


def test_no_policies_no_violations(spark, flows, zones):
    _eq(policy_violations(flows, zones, []), spark.createDataFrame([], VIOLATION_SCHEMA))


def test_closure_without_path_columns(spark, zones):
    rows = spark.createDataFrame(
        [(REL, "ads.targeting.segment", RELIGION)],
        "source string, node string, data_category string",
    )
    expected = spark.createDataFrame(
        [("religion-in-dating", RELIGION, REL, "ads.targeting.segment", "ads", None, None, None)],
        VIOLATION_SCHEMA,
    )
    _eq(policy_violations(rows, zones, POLICIES), expected)


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ([{"data_categories": ["user"], "allowed_zones": []}], "needs a non-empty 'name'"),
        ([{"name": "p", "data_categories": [], "allowed_zones": []}], "at least one category"),
        ([{"name": "p", "data_categories": "user", "allowed_zones": []}], "list of strings"),
        ([{"name": "p", "data_categories": ["user"]}] * 2, "repeated: p"),
        (["p"], "must be a mapping"),
    ],
)
def test_malformed_policies_are_rejected(policies, message):
    with pytest.raises(PolicyError, match=message):
        parse_policies(policies)


def test_parse_policies_normalises():
    (policy,) = parse_policies(
        [{"name": " p ", "data_categories": ["user.contact. "], "allowed_zones": ["a"]}]
    )
    assert (policy.name, policy.data_categories, policy.allowed_zones) == (
        "p",
        ("user.contact",),
        ("a",),
    )


def test_new_flows_are_those_absent_last_night(spark):
    schema = "source string, node string, depth int"
    tonight = spark.createDataFrame([("a", "b", 1), ("a", "c", 2), ("d", "e", 1)], schema)
    previous = spark.createDataFrame([("a", "b", 3), ("x", "c", 1)], schema)
    expected = spark.createDataFrame([("a", "c", 2), ("d", "e", 1)], schema)
    _eq(new_flows(tonight, previous), expected)


def test_new_flows_compare_null_keys_safely(spark):
    schema = "source_asset string, source_column string, target_asset string, target_column string"
    keys = ("source_asset", "source_column", "target_asset", "target_column")
    tonight = spark.createDataFrame(
        [("crm.c", None, "ads.t", None), ("crm.c", "email", "ads.t", "h")], schema
    )
    previous = spark.createDataFrame([("crm.c", None, "ads.t", None)], schema)
    expected = spark.createDataFrame([("crm.c", "email", "ads.t", "h")], schema)
    _eq(new_flows(tonight, previous, keys=keys), expected)


def test_new_flows_missing_key_column(spark):
    df = spark.createDataFrame([("a",)], "source string")
    with pytest.raises(PolicyError, match="node"):
        new_flows(df, df)


def test_category_case_does_not_hide_a_violation(spark, zones):
    closure = spark.createDataFrame(
        [(EMAIL, "ads.targeting.e", 1, 1.0, [EMAIL, "ads.targeting.e"], "User.Contact.EMAIL")],
        CLOSURE_SCHEMA,
    )
    policy = Policy("contact-not-ads", ("user.CONTACT",), ("crm",))
    assert policy.covers("user.contact.email") and not policy.covers("user.contactless")
    got = policy_violations(closure, zones, [policy], unzoned="ignore")
    assert [(r.policy, r.node, r.zone) for r in got.collect()] == [
        ("contact-not-ads", "ads.targeting.e", "ads")
    ]
