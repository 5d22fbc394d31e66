"""The graph the closure walks and the last hops of the data map, from ``lineage_edges`` rows."""

from __future__ import annotations

from chispa import assert_df_equality

from lineage.flows import graph_edges, last_hops

EDGES = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean, "
    "confidence double"
)


def _eq(actual, expected):
    assert_df_equality(
        actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True
    )


def test_graph_edges_at_column_and_table_level(spark):
    edges = spark.createDataFrame(
        [
            ("crm.c", "email", "mart.m", "email", "DIRECT", "IDENTITY", False, 0.9),
            ("crm.c", "email", "mart.m", "email", "DIRECT", "TRANSFORMATION", True, 0.6),
            (
                "crm.c",
                "id",
                "mart.m",
                None,
                "INDIRECT",
                "FILTER",
                False,
                0.8,
            ),  # into the table node
            ("crm.c", "id", "mart.m", "total", "INDIRECT", "AGGREGATION", False, 0.7),  # not walked
            ("crm.c", None, "arch.c", None, "DIRECT", "TRANSFORMATION", None, 0.5),  # job log
            (
                "crm.c",
                "x",
                "crm.c",
                "y",
                "DIRECT",
                "IDENTITY",
                False,
                1.0,
            ),  # same table: no table edge
        ],
        EDGES,
    )
    expected = spark.createDataFrame(
        [
            (
                "crm.c.email",
                "mart.m.email",
                "column",
                "crm.c",
                "email",
                "mart.m",
                "email",
                0.9,
                False,
            ),
            ("crm.c.id", "mart.m", "column", "crm.c", "id", "mart.m", None, 0.8, False),
            ("crm.c.x", "crm.c.y", "column", "crm.c", "x", "crm.c", "y", 1.0, False),
            ("crm.c", "mart.m", "table", "crm.c", None, "mart.m", None, 0.9, False),
            ("crm.c", "arch.c", "table", "crm.c", None, "arch.c", None, 0.5, False),
        ],
        "src string, dst string, level string, src_asset string, src_column string, "
        "dst_asset string, dst_column string, confidence double, masking boolean",
    )
    _eq(graph_edges(edges), expected)


def test_last_hops_take_the_most_confident_edge_and_mask_only_when_every_edge_masks(spark):
    edges = spark.createDataFrame(
        [
            ("crm.c", "email", "mart.m", "email", "DIRECT", "IDENTITY", False, 0.9),
            ("crm.c", "email", "mart.m", "email", "DIRECT", "TRANSFORMATION", True, 0.6),
            ("crm.c", "email", "ads.s", "h", "DIRECT", "TRANSFORMATION", True, 0.8),
            ("crm.c", "id", "mart.m", None, "INDIRECT", "FILTER", None, 0.8),
        ],
        EDGES,
    )
    expected = spark.createDataFrame(
        [
            ("crm.c.email", "mart.m.email", "DIRECT", "IDENTITY", False),
            ("crm.c.email", "ads.s.h", "DIRECT", "TRANSFORMATION", True),
            ("crm.c.id", "mart.m", "INDIRECT", "FILTER", False),
        ],
        "_src string, _dst string, transformation_type string, transformation_subtype string, "
        "masking boolean",
    )
    _eq(last_hops(edges), expected)


def test_a_struct_field_path_is_contained_in_its_struct_column(spark):
    edges = spark.createDataFrame(
        [
            # SELECT profile.address.city AS city FROM crm.users: the edge is from the field
            (
                "crm.users",
                "profile.address.city",
                "mart.m",
                "city",
                "DIRECT",
                "IDENTITY",
                False,
                0.9,
            ),
            ("crm.users", "id", "mart.m", "id", "DIRECT", "IDENTITY", False, 1.0),
        ],
        EDGES,
    )
    expected = spark.createDataFrame(
        [
            (
                "crm.users.profile.address.city",
                "mart.m.city",
                "column",
                "crm.users",
                "profile.address.city",
                "mart.m",
                "city",
                0.9,
                False,
            ),
            ("crm.users.id", "mart.m.id", "column", "crm.users", "id", "mart.m", "id", 1.0, False),
            (
                "crm.users.profile",
                "crm.users.profile.address",
                "column",
                "crm.users",
                "profile",
                "crm.users",
                "profile.address",
                1.0,
                False,
            ),
            (
                "crm.users.profile.address",
                "crm.users.profile.address.city",
                "column",
                "crm.users",
                "profile.address",
                "crm.users",
                "profile.address.city",
                1.0,
                False,
            ),
            ("crm.users", "mart.m", "table", "crm.users", None, "mart.m", None, 1.0, False),
        ],
        "src string, dst string, level string, src_asset string, src_column string, "
        "dst_asset string, dst_column string, confidence double, masking boolean",
    )
    _eq(graph_edges(edges), expected)
