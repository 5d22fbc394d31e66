"""Policy zones and new-flow monitoring over tonight's closure (part of the closure step).

``policy_violations``: every flow of a protected data category into a zone its policy does not
allow, with the full path. ``new_flows``: flows in tonight's closure absent from the previous run's
(continuous monitoring: "new flow detected: religion -> ads"). The first night is the baseline and
reports no new flows. Both tables hold one slice per run date, replaced on rerun.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.context import JobContext
from lineage.graph.columns import CLOSURE_FLOW_COLUMNS
from lineage.graph.nodes import node_col
from lineage.policy import new_flows, policy_violations

FLOW_KEYS = ["level", "source_asset", "source_column", "target_asset", "target_column"]


def violations(ctx: JobContext, closure: DataFrame) -> DataFrame:
    """Tonight's policy violations with source/target split into asset and column."""
    policies = ctx.policies
    cats = ctx.store.read("columns").select(
        F.concat_ws(".", "asset_id", "column").alias("source"), "data_category"
    )
    flows = closure.filter(F.col("level") == "column").select(
        node_col("source_asset", "source_column").alias("source"),
        node_col("target_asset", "target_column").alias("node"),
        *CLOSURE_FLOW_COLUMNS,
    )
    with_cats = flows.join(cats, "source")
    zones = ctx.store.read("assets").select(F.col("asset_id").alias("asset"), "zone")
    rules = list(policies.policies)
    if not rules:
        return ctx.spark.createDataFrame([], "policy string")
    found = policy_violations(with_cats, zones, rules, unzoned="ignore")
    names = flows.select(
        "source", "node", "source_asset", "source_column", "target_asset", "target_column"
    )
    return found.join(names, ["source", "node"]).select(
        "policy",
        "data_category",
        "source_asset",
        "source_column",
        "target_asset",
        "target_column",
        "zone",
        "depth",
        "confidence",
        "path",
        F.lit(ctx.run_date).alias("run_date"),
    )


def policy_and_new_flows(ctx: JobContext, closure: DataFrame) -> tuple[int, int]:
    """Write tonight's ``policy_violations`` and ``new_flows`` slices; return their counts."""
    tonight_slice = F.col("run_date") == F.lit(ctx.run_date)
    viol = violations(ctx, closure)
    n_viol = 0
    if "run_date" in viol.columns:
        ctx.store.replace_where("policy_violations", viol, tonight_slice)
        n_viol = ctx.store.read("policy_violations").filter(tonight_slice).count()
    everything = ctx.store.read("lineage_closure")
    previous_date = (
        everything.filter(F.col("run_date") < F.lit(ctx.run_date)).agg(F.max("run_date")).first()[0]
    )
    if previous_date is None:
        new = closure.limit(0)
    else:
        previous = everything.filter(F.col("run_date") == F.lit(previous_date))
        new = new_flows(closure, previous, keys=FLOW_KEYS)
    new = new.select(*FLOW_KEYS, "depth", "confidence", "path", "run_date")
    ctx.store.replace_where("new_flows", new, tonight_slice)
    n_new = ctx.store.read("new_flows").filter(tonight_slice).count()
    return n_viol, n_new
