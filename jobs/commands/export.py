"""OpenLineage out: the product's own runs as RunEvents, and the lineage it discovered.

* Every step emits START and COMPLETE (or FAIL) RunEvents with its input and output datasets to
  ``observability.openlineage_sink`` (a ``.jsonl`` file path or an ``http(s)`` URL, e.g. Marquez's
  ``/api/v1/lineage``), so the product shows up in Marquez or DataHub like any other job. Emission
  never fails a step: a sink error is logged and the run goes on.
* ``compliance export openlineage`` writes the discovered lineage as one COMPLETE RunEvent per
  target dataset, with the ``columnLineage`` dataset facet carrying the transformation types.

Events are built with the ``openlineage-python`` client's generated classes (their validators check
run ids, event times and facet shapes) and serialised deterministically (sorted keys).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset
from openlineage.client.serde import Serde
from pyspark.sql import functions as F

from jobs.context import VERSION, JobContext
from jobs.registry import STEP_BY_NAME

PRODUCER = f"https://github.com/compliance-jobs/compliance/tree/{VERSION}"
NAMESPACE = "compliance"
DATA_NAMESPACE = "warehouse"


#: Datasets each step reads and writes (the product's own lineage).
def run_id_for(job: str, run_date: Any) -> str:
    """A deterministic run id: the same job and run date always give the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"compliance/{job}/{run_date}"))


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def step_event(job: str, run_date: Any, state: str, *, now: datetime) -> dict[str, Any]:
    """A RunEvent of one of the product's own steps, as a JSON-ready dict."""
    spec = STEP_BY_NAME.get(job)
    ins = [*spec.inputs, *spec.reads] if spec else []
    outs = [*spec.writes, *spec.outputs] if spec else []
    event = RunEvent(
        eventType=RunState[state],
        eventTime=_iso(now),
        producer=PRODUCER,
        run=Run(runId=run_id_for(job, run_date)),
        job=Job(namespace=NAMESPACE, name=f"compliance.{job}"),
        inputs=[InputDataset(namespace=DATA_NAMESPACE, name=n) for n in ins],
        outputs=[OutputDataset(namespace=DATA_NAMESPACE, name=n) for n in outs],
    )
    return json.loads(Serde.to_json(event))


def emit(ctx: JobContext, job: str, state: str) -> None:
    """Send a step's RunEvent to the configured sink (no-op without one; never raises)."""
    sink = ctx.cfg.observability.openlineage_sink
    if not sink:
        return
    payload = json.dumps(
        step_event(job, ctx.run_date, state, now=datetime.now(timezone.utc)), sort_keys=True
    )
    try:
        if sink.startswith(("http://", "https://")):
            req = urllib.request.Request(  # noqa: S310 - URL from the operator's config
                sink, data=payload.encode(), headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(req, timeout=10).close()  # noqa: S310 - URL from the operator's config
        else:
            path = Path(sink)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(payload + "\n")
    except OSError as exc:
        ctx.log(f"openlineage: could not emit {state} for {job} to {sink}: {exc}")


def _transformation(t: str | None, s: str | None, masking: bool | None) -> Any:
    return column_lineage_dataset.Transformation(
        type=t or "DIRECT", subtype=s, masking=bool(masking)
    )


def discovered_events(rows: Iterable[Any], run_date: Any) -> Iterable[dict[str, Any]]:
    """One COMPLETE RunEvent per target asset from rows grouped by target (see :func:`export`)."""
    when = _iso(datetime.combine(run_date, time(), tzinfo=timezone.utc))
    for row in rows:
        target = row["target_asset"]
        fields: dict[str, list[Any]] = {}
        inputs = sorted({e["source_asset"] for e in row["edges"]})
        for e in row["edges"]:
            if e["source_column"] is None or e["target_column"] is None:
                continue
            fields.setdefault(e["target_column"], []).append(
                column_lineage_dataset.InputField(
                    namespace=DATA_NAMESPACE,
                    name=e["source_asset"],
                    field=e["source_column"],
                    transformations=[
                        _transformation(
                            e["transformation_type"], e["transformation_subtype"], e["masking"]
                        )
                    ],
                )
            )
        facets = {}
        if fields:
            facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
                fields={
                    k: column_lineage_dataset.Fields(inputFields=v)
                    for k, v in sorted(fields.items())
                }
            )
        event = RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=when,
            producer=PRODUCER,
            run=Run(runId=run_id_for(f"discovered/{target}", run_date)),
            job=Job(namespace=NAMESPACE, name=f"discovered.{target}"),
            inputs=[InputDataset(namespace=DATA_NAMESPACE, name=n) for n in inputs],
            outputs=[OutputDataset(namespace=DATA_NAMESPACE, name=target, facets=facets)],
        )
        yield json.loads(Serde.to_json(event))


def export(ctx: JobContext, out: Path) -> int:
    """Write the discovered lineage as OpenLineage JSON Lines; returns the number of events."""
    from jobs.errors import UsageError

    if not ctx.store.exists("lineage_edges"):
        raise UsageError("no lineage yet: run `compliance nightly` first")
    edges = ctx.store.read("lineage_edges")
    grouped = (
        edges.groupBy("target_asset")
        .agg(
            F.collect_list(
                F.struct(
                    "source_asset",
                    "source_column",
                    "target_column",
                    "transformation_type",
                    "transformation_subtype",
                    "masking",
                )
            ).alias("edges")
        )
        .orderBy("target_asset")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        rows = (
            r.asDict(recursive=True) for r in grouped.toLocalIterator()
        )  # streamed, one target at a time
        for event in discovered_events(rows, ctx.run_date):
            fh.write(json.dumps(event, sort_keys=True) + "\n")
            n += 1
    return n
