"""Masking: an edge is masked only when every observation masks; a flow when some hop masks."""

from __future__ import annotations

from datetime import datetime

from chispa import assert_df_equality

from lineage.masking import hop_masking, with_path_masking
from lineage.observations import OBS_KEYS, merge_observations

T = datetime(2026, 11, 20, 1, 0)


def _eq(actual, expected):
    assert_df_equality(
        actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True
    )


def test_a_hop_is_masked_only_when_every_edge_between_the_nodes_is(spark):
    edges = spark.createDataFrame(
        [
            ("crm.c.email", "ads.s.email_sha256", True),
            ("crm.c.email", "ads.s.email_sha256", True),
            ("crm.c.email", "mart.m.email", True),
            ("crm.c.email", "mart.m.email", False),
            ("crm.c.id", "mart.m.id", None),
        ],
        "src string, dst string, masking boolean",
    )
    expected = spark.createDataFrame(
        [
            ("crm.c.email", "ads.s.email_sha256", True),
            ("crm.c.email", "mart.m.email", False),
            ("crm.c.id", "mart.m.id", False),
        ],
        "src string, dst string, masking boolean",
    )
    _eq(hop_masking(edges), expected)


def test_a_path_with_one_hashing_hop_is_masked_at_its_end(spark):
    hops = spark.createDataFrame(
        [
            ("crm.c.email", "stg.s.email_hash", True),  # hashed here
            ("stg.s.email_hash", "ads.l.email_sha256", False),  # then copied as it is
            ("crm.c.email", "mart.m.email", False),
            ("mart.m.email", "ads.l.email_masked", True),
        ],
        "src string, dst string, masking boolean",
    )
    rows = spark.createDataFrame(
        [
            ("a", ["crm.c.email", "stg.s.email_hash", "ads.l.email_sha256"]),
            ("b", ["crm.c.email", "mart.m.email"]),
            ("c", ["crm.c.email", "mart.m.email", "ads.l.email_masked"]),
            ("d", ["crm.c.email"]),
            ("e", ["crm.c.email", "nowhere.x.y"]),  # a hop without an edge: not masked
        ],
        "id string, path array<string>",
    )
    expected = spark.createDataFrame(
        [
            ("a", ["crm.c.email", "stg.s.email_hash", "ads.l.email_sha256"], True, False),
            ("b", ["crm.c.email", "mart.m.email"], False, False),
            ("c", ["crm.c.email", "mart.m.email", "ads.l.email_masked"], True, True),
            ("d", ["crm.c.email"], False, False),
            ("e", ["crm.c.email", "nowhere.x.y"], False, False),
        ],
        "id string, path array<string>, masked_on_path boolean, last_hop_masked boolean",
    )
    _eq(rows.transform(with_path_masking(hops)), expected)


def test_an_edge_seen_once_hashed_and_once_in_clear_is_stored_unmasked(spark):
    schema = (
        "edge_id string, run_date date, source_asset string, source_column string, "
        "target_asset string, target_column string, transformation_type string, "
        "transformation_subtype string, signal string, masking boolean, confidence double, "
        "evidence array<string>, first_seen timestamp, last_seen timestamp, seen_count long"
    )
    day = T.date()
    obs = spark.createDataFrame(
        [
            (
                "e1",
                day,
                "crm.c",
                "email",
                "ads.s",
                "email",
                "DIRECT",
                "TRANSFORMATION",
                "sql",
                True,
                0.9,
                ["q1"],
                T,
                T,
                1,
            ),
            (
                "e1",
                day,
                "crm.c",
                "email",
                "ads.s",
                "email",
                "DIRECT",
                "TRANSFORMATION",
                "sql",
                False,
                0.8,
                ["q2"],
                T,
                T,
                2,
            ),
            (
                "e2",
                day,
                "crm.c",
                "email",
                "ads.h",
                "h",
                "DIRECT",
                "TRANSFORMATION",
                "sql",
                True,
                0.9,
                ["q3"],
                T,
                T,
                1,
            ),
        ],
        schema,
    )
    merged = merge_observations(obs, ["edge_id"]).select("edge_id", "masking", "seen_count")
    expected = spark.createDataFrame(
        [("e1", False, 3), ("e2", True, 1)], "edge_id string, masking boolean, seen_count long"
    )
    _eq(merged, expected)
    assert "edge_id" in OBS_KEYS
