"""Ingest of the non-SQL signals: OpenLineage events, training configs, runtime probe samples.

Reads the landed tables of the run date and calls the pure extractors of :mod:`lineage.signals.merge`;
probe flows are also written to ``probe_flows`` (with the match kind) for review, and statically
found flows never observed by probes over the configured window to ``flows_not_observed``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.config.catalog import Catalog
from jobs.context import JobContext


def _landed(ctx: JobContext, table: str) -> DataFrame | None:
    if not ctx.store.exists(table):
        return None
    return ctx.store.read(table).filter(F.col("landed_on") == F.lit(ctx.run_date))


def other_signal_observations(ctx: JobContext, catalog: Catalog) -> list[DataFrame]:
    """Observations (OBSERVATION_SCHEMA columns) from every non-SQL signal landed tonight."""
    from lineage.signals import merge as signals

    conf = ctx.cfg.ingest.confidence
    out: list[DataFrame] = []
    events = _landed(ctx, "landed_openlineage")
    if events is not None:
        # the earlier events of a run completed tonight were landed on any night
        history = ctx.store.read("landed_openlineage")
        out.append(
            signals.openlineage_observations(
                events, confidence=conf.openlineage, history=history, rules=ctx.cfg.naming
            )
        )
    configs = _landed(ctx, "landed_training_configs")
    if configs is not None:
        out.append(signals.config_observations(configs, confidence=conf.config))
    tonight = _landed(ctx, "landed_probe_samples")
    if tonight is not None:
        kw = dict(match_confidence=conf.probe_match, no_match_confidence=conf.probe_no_match)
        out.append(
            signals.probe_observations(tonight, **kw)
            .filter(F.col("match") != "NO_MATCH")
            .drop("match")
        )
        # every source/sink pair over the observation window, NO_MATCH included, for review
        window_start = datetime.combine(
            ctx.run_date - timedelta(days=ctx.cfg.lineage.probe_window_days), time()
        )
        probes = ctx.store.read("landed_probe_samples").filter(F.col("ts") >= F.lit(window_start))
        window_obs = signals.probe_observations(probes, **kw)
        ctx.store.overwrite(
            "probe_flows",
            window_obs.withColumn("run_date", F.lit(ctx.run_date)),
            allow_schema_change=True,
        )
        if ctx.store.exists("lineage_edges"):
            static = ctx.store.read("lineage_edges").filter(F.col("signal") != "probe")
            gated = signals.flows_not_observed(static, window_obs, window_start=window_start)
            ctx.store.overwrite(
                "flows_not_observed",
                gated.withColumn("run_date", F.lit(ctx.run_date)),
                allow_schema_change=True,
            )
    return out
