"""The ingest step's pure rules (lineage/observations.py), against frames written by hand."""

from __future__ import annotations

import hashlib
from datetime import datetime

from chispa import assert_df_equality

from lineage.observations import edge_id_col, job_log_edges, merge_observations

LOGS = "sql string, action string, job_id string, table string, started_at timestamp, line long"
T = [datetime(2026, 11, 22, h) for h in range(8)]
EDGE = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean, signal string, "
    "confidence double, evidence array<string>, first_seen timestamp, last_seen timestamp, "
    "seen_count long"
)


def test_job_log_edges_pair_each_jobs_reads_with_its_writes(spark):
    logs = spark.createDataFrame(
        [
            (None, "READ", "j1", "CRM.Customers", T[1], 1),
            (None, "READ", "j1", "app.orders", T[2], 2),
            (None, "WRITE", "j1", "mart.sales", T[3], 3),
            (None, "READ", "j2", "crm.customers", T[0], 4),
            (None, "WRITE", "j2", "mart.sales", T[5], 5),
            (None, "WRITE", "j2", "mart.sales", T[6], 6),  # two writes: two pairs
            (None, "READ", "j3", "mart.sales", T[1], 7),  # reads and writes itself: no edge
            (None, "WRITE", "j3", "mart.sales", T[2], 8),
            (None, "READ", None, "x.y", T[1], 9),  # no job id: unused
            ("select 1", "READ", "j4", "x.y", T[1], 10),  # a SQL line: parsed elsewhere
            (None, "WRITE", "j4", "x.z", T[1], 11),
        ],
        LOGS,
    )
    got = job_log_edges(logs, confidence=0.6)
    common = ("DIRECT", "TRANSFORMATION", False, "job_log", 0.6)
    want = spark.createDataFrame(
        [
            ("app.orders", None, "mart.sales", None, *common, ["j1"], T[2], T[3], 1),
            ("crm.customers", None, "mart.sales", None, *common, ["j1", "j2"], T[0], T[6], 3),
        ],
        EDGE,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_edge_id_is_sha256_of_the_identity_and_signal(spark):
    row = ("crm.c", "email", "stg.c", None, "DIRECT", "IDENTITY", "sql")
    df = spark.createDataFrame(
        [row],
        "source_asset string, source_column string, target_asset string, target_column string, "
        "transformation_type string, transformation_subtype string, signal string",
    )
    text = "|".join("" if v is None else v for v in row)
    want = hashlib.sha256(text.encode()).hexdigest()[:32]
    assert df.select(edge_id_col().alias("id")).first().id == want


def test_merge_observations_of_one_edge(spark):
    c = ("crm.c", "email", "stg.c", "email", "DIRECT", "IDENTITY")
    obs = spark.createDataFrame(
        [
            ("e1", *c, True, "sql", 0.7, ["q2", "q1"], T[2], T[3], 2),
            ("e1", *c, False, "sql", 0.9, ["q1"], T[1], T[5], 1),
            ("e2", *c, True, "probe", 0.5, ["p1"], T[4], T[4], 4),
            ("e2", *c, None, "probe", 0.4, [], T[3], T[6], 1),
        ],
        "edge_id string, " + EDGE,
    )
    got = merge_observations(obs, ["edge_id"]).select(
        "edge_id", "masking", "confidence", "evidence", "first_seen", "last_seen", "seen_count"
    )
    want = spark.createDataFrame(
        [
            # one observation in clear: the edge is not masked
            ("e1", False, 0.9, ["q1", "q2"], T[1], T[5], 3),
            # an observation that does not know counts as not masked
            ("e2", False, 0.5, ["p1"], T[3], T[6], 5),
        ],
        "edge_id string, masking boolean, confidence double, evidence array<string>, "
        "first_seen timestamp, last_seen timestamp, seen_count long",
    )
    assert_df_equality(
        got.orderBy("edge_id"), want, ignore_nullable=True, ignore_column_order=False
    )
    assert {r.signal for r in merge_observations(obs, ["edge_id"]).collect()} == {"sql", "probe"}


def test_schema_events_carry_their_text_s_statistics_and_a_stable_id(spark):
    from datetime import date

    from lineage.observations import schema_events
    from lineage.sql.batch import EXTRACT_SCHEMA

    cols = [c.strip().split(" ")[0] for c in EXTRACT_SCHEMA.split(",")]

    def row(**v):
        return tuple(v.get(c) for c in cols)

    extracted = spark.createDataFrame(
        [
            row(
                fingerprint="f1",
                dialect="spark",
                kind="schema",
                source_table="Stage.T",
                source_column="Mail",
                event="rename_column",
                detail="email",
            ),
            row(
                fingerprint="f1", dialect="spark", kind="column", source_table="a", target_table="b"
            ),
            row(
                fingerprint="f2",
                dialect="hive",
                kind="schema",
                source_table="x",
                event="drop_table",
            ),
        ],
        EXTRACT_SCHEMA,
    )
    t = datetime(2026, 11, 20, 9)
    stats = spark.createDataFrame(
        [("f1", "spark", None, 3, t, t, ["q1"]), ("f2", "hive", None, 1, t, t, ["q9"])],
        "fingerprint string, dialect string, default_schema string, n bigint, "
        "first_seen timestamp, last_seen timestamp, evidence array<string>",
    )
    got = schema_events(extracted, stats, date(2026, 11, 21))
    ident = "|".join(["f1", "spark", "", "rename_column", "Stage.T", "Mail", "email"])
    want = spark.createDataFrame(
        [
            (
                hashlib.sha256(ident.encode()).hexdigest()[:32],
                date(2026, 11, 21),
                "stage.t",
                "rename_column",
                "mail",
                "email",
                "spark",
                "f1",
                t,
                t,
                3,
                ["q1"],
            ),
            (
                hashlib.sha256(b"f2|hive||drop_table|x||").hexdigest()[:32],
                date(2026, 11, 21),
                "x",
                "drop_table",
                None,
                None,
                "hive",
                "f2",
                t,
                t,
                1,
                ["q9"],
            ),
        ],
        "event_id string, run_date date, asset string, event string, column string, detail string, "
        "dialect string, fingerprint string, first_seen timestamp, last_seen timestamp, "
        "seen_count bigint, evidence array<string>",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
