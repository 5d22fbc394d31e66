"""Dynamic validation of deletion annotations (DELF §4.3, §6.1): predict deep or shallow per edge
type from the observed edges, and report disagreements with the declared annotation.

Per observed edge, from the inventory alone (object creation is approximated by the first time an
object appears in any edge, as source or target):

- ``new``: the target first appears at or after the source (created after it);
- ``owned``: the target is referenced by exactly one source through this edge type;
- ``shared``: the target is referenced by several sources through this edge type (many_to_one);
- ``older``: the target appeared before the source (to_old_object).

Per edge type (with at least ``min_edges`` edges, as DELF ignores rarer types):

- predict ``deep`` when at least ``deep_share`` of its edges are new AND owned;
- predict ``shallow`` when source and target types are the same (same_obj_type), or at least
  ``shallow_share`` of its edges are shared, or at least ``shallow_share`` are older;
- when both fire the prediction is discarded (DELF discards conflicting predictions), and
  otherwise the heuristics abstain.

Disagreements with a declared ``deep``/``shallow`` annotation become ``annotation_findings``
(``heuristic_predicts_deep``: declared shallow but looks owned, the data-retention risk;
``heuristic_predicts_shallow``: declared deep but looks shared, the over-deletion risk). Declared
``refcount`` is compatible with a shallow prediction; with a deep one it is reported as
``refcount_looks_deep`` (DELF's "declared refcount, truly deep" case). Refcount edges are left
out of precision/recall. No deep is ever suggested into an object type annotated ``not_deleted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.annotations.sections import Annotations, as_annotations

PREDICTIONS_SCHEMA = (
    "edge_type string, edges long, new_owned double, shared double, older double, "
    "same_type boolean, predicted string, reason string"
)


@dataclass(frozen=True)
class HeuristicOptions:
    """Thresholds of the dynamic heuristics."""

    min_edges: int = 20
    """Edge types with fewer observed edges get no prediction."""
    deep_share: float = 0.9
    """Share of new-and-owned edges needed to predict deep."""
    shallow_share: float = 0.5
    """Share of shared (or of older-target) edges needed to predict shallow."""


@dataclass(frozen=True)
class PredictionScore:
    """Precision and recall of the predictions against declared (ground-truth) annotations."""

    evaluated: int
    """Edge types declared deep or shallow with enough observed edges."""
    predicted: int
    """Of those, how many got a prediction (no abstention, no conflict)."""
    correct: int
    """Predictions equal to the declared annotation."""

    @property
    def precision(self) -> float:
        """correct / predicted (1.0 when nothing was predicted)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """correct / evaluated (1.0 when nothing was evaluated)."""
        return self.correct / self.evaluated if self.evaluated else 1.0


def edge_features(inventory: DataFrame) -> DataFrame:
    """Per edge type: how many edges, and the shares of new-and-owned, shared and older targets.

    Args:
        inventory: edge inventory (edge_type, src_type, src_key, dst_type, dst_key, created_at, ...).

    Returns:
        DataFrame[edge_type, edges long, new_owned double, shared double, older double,
        same_type boolean] (same_type: every observed edge joins two objects of one type).
    """
    inv = inventory.select(
        "edge_type",
        "src_type",
        "dst_type",
        "created_at",
        F.concat_ws(":", "src_type", "src_key").alias("src"),
        F.concat_ws(":", "dst_type", "dst_key").alias("dst"),
    )
    first_seen = (
        inv.select(F.col("src").alias("obj"), "created_at")
        .unionByName(inv.select(F.col("dst").alias("obj"), "created_at"))
        .groupBy("obj")
        .agg(F.min("created_at").alias("first_seen"))
    )
    indegree = inv.groupBy("edge_type", "dst").agg(F.countDistinct("src").alias("indegree"))
    src_seen = first_seen.select(F.col("obj").alias("src"), F.col("first_seen").alias("src_seen"))
    dst_seen = first_seen.select(F.col("obj").alias("dst"), F.col("first_seen").alias("dst_seen"))
    edges = inv.join(src_seen, "src").join(dst_seen, "dst").join(indegree, ["edge_type", "dst"])
    flag = lambda cond: F.avg(F.when(cond, 1.0).otherwise(0.0))  # noqa: E731
    return edges.groupBy("edge_type").agg(
        F.count(F.lit(1)).alias("edges"),
        flag((F.col("dst_seen") >= F.col("src_seen")) & (F.col("indegree") == 1)).alias(
            "new_owned"
        ),
        flag(F.col("indegree") > 1).alias("shared"),
        flag(F.col("dst_seen") < F.col("src_seen")).alias("older"),
        F.min(F.col("src_type") == F.col("dst_type")).alias("same_type"),
    )


def predict_annotations(
    features: DataFrame, options: HeuristicOptions = HeuristicOptions()
) -> DataFrame:
    """Predict deep/shallow per edge type from :func:`edge_features` (rules in the docstring).

    Returns:
        The features plus ``predicted`` (``deep``, ``shallow`` or null) and ``reason`` (which
        heuristics fired, ``too_few_edges``, ``conflict`` or ``no_signal``).
    """
    o = options
    deep = F.col("new_owned") >= o.deep_share
    same = F.col("same_type")
    shared = F.col("shared") >= o.shallow_share
    older = F.col("older") >= o.shallow_share
    shallow = same | shared | older
    fired = F.concat_ws(
        ",",
        F.when(deep, F.lit("new_owned")),
        F.when(same, F.lit("same_type")),
        F.when(shared, F.lit("many_to_one")),
        F.when(older, F.lit("to_old_object")),
    )
    few = F.col("edges") < o.min_edges
    return features.select(
        "edge_type",
        "edges",
        "new_owned",
        "shared",
        "older",
        "same_type",
        F.when(few, F.lit(None))
        .when(deep & ~shallow, F.lit("deep"))
        .when(shallow & ~deep, F.lit("shallow"))
        .cast("string")
        .alias("predicted"),
        F.when(few, F.lit("too_few_edges"))
        .when(deep & shallow, F.concat(F.lit("conflict:"), fired))
        .when(deep | shallow, fired)
        .otherwise(F.lit("no_signal"))
        .alias("reason"),
    )


def _declared(predictions: DataFrame, annotations: Annotations | Mapping[str, Any]) -> DataFrame:
    ann = as_annotations(annotations)
    rows = [
        (name, spec.deletion, spec.dst, ann.objects.get(spec.dst) if spec.dst else None)
        for name, spec in ann.edges.items()
    ]
    declared = predictions.sparkSession.createDataFrame(
        rows, "edge_type string, declared string, dst_type string, dst_annotation string"
    )
    return predictions.join(declared, "edge_type")


def heuristic_findings(
    predictions: DataFrame, annotations: Annotations | Mapping[str, Any]
) -> DataFrame:
    """Disagreements of the predictions with the declared annotations.

    Declared ``deep`` or ``shallow`` with the other predicted gives ``heuristic_predicts_<x>``;
    declared ``refcount`` with ``deep`` predicted (every target new and owned by one source:
    DELF's "declared refcount, truly deep") gives ``refcount_looks_deep``. A ``deep`` prediction
    into an object type annotated ``not_deleted`` is never reported: deep would delete objects
    the annotations say are kept.

    Returns:
        DataFrame[finding, edge_type, object_type, detail]; ``object_type`` is the declared target
        type (the data that would be kept or over-deleted).
    """
    pct = lambda name: F.format_number(F.col(name) * 100, 1)  # noqa: E731
    j = _declared(predictions, annotations).where(
        F.col("predicted").isNotNull()
        & (F.col("predicted") != F.col("declared"))
        & (
            F.col("declared").isin("deep", "shallow")
            | ((F.col("declared") == "refcount") & (F.col("predicted") == "deep"))
        )
        & ~(
            (F.col("predicted") == "deep")
            & F.coalesce(F.col("dst_annotation") == "not_deleted", F.lit(False))
        )
    )
    finding = F.when(F.col("declared") == "refcount", F.lit("refcount_looks_deep")).otherwise(
        F.concat(F.lit("heuristic_predicts_"), F.col("predicted"))
    )
    return j.select(
        finding.alias("finding"),
        "edge_type",
        F.col("dst_type").alias("object_type"),
        F.concat(
            F.lit("declared "),
            F.col("declared"),
            F.lit(", observed edges suggest "),
            F.col("predicted"),
            F.lit(" ("),
            F.col("reason"),
            F.lit("; "),
            F.col("edges").cast("string"),
            F.lit(" edges: "),
            pct("new_owned"),
            F.lit("% new and owned, "),
            pct("shared"),
            F.lit("% shared targets, "),
            pct("older"),
            F.lit("% older targets)"),
        ).alias("detail"),
    )


def prediction_scores(
    predictions: DataFrame, annotations: Annotations | Mapping[str, Any]
) -> PredictionScore:
    """Precision/recall of the predictions against the declared annotations taken as truth.

    Only edge types declared ``deep`` or ``shallow`` with at least ``min_edges`` observed edges
    are evaluated (the ``too_few_edges`` ones are left out, as in DELF's evaluation).
    """
    row = (
        _declared(predictions, annotations)
        .where(F.col("declared").isin("deep", "shallow") & (F.col("reason") != "too_few_edges"))
        .agg(
            F.count(F.lit(1)).alias("evaluated"),
            F.count("predicted").alias("predicted"),
            F.count_if(F.col("predicted") == F.col("declared")).alias("correct"),
        )
        .first()
    )
    return PredictionScore(int(row["evaluated"]), int(row["predicted"]), int(row["correct"] or 0))
