"""Hashed match keys of deleted subjects: how a residual scan matches a hashed identifier copy.

When a deletion request is landed its raw subject id is known for a moment. Besides the subject
key (``HMAC(key, id)``, :mod:`jobs.secrets.pseudonym`), the landing step records for every function of
:data:`audits.hashing.HASH_FUNCTIONS` the *match key* ``HMAC(key, f(id))`` in
``subject_match_keys`` (subject_key, function, match_key, landed_on). A column holding ``f(id)``
(e.g. ``sha2(customer_id, 256)``) is scanned by keying its lower-cased values the same way and
joining on ``match_key``. Match keys are as pseudonymous as subject keys: without the key they
reveal nothing about the id, and the raw id and its plain digests are never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.hashing import HASH_FUNCTIONS, HASH_NAMES
from jobs.secrets.pseudonym import PseudonymKey

TABLE = "subject_match_keys"
SCHEMA = "subject_key string, function string, match_key string"


Batches = Iterator[pd.DataFrame]


def _rows(key: PseudonymKey, column: str) -> Callable[[Batches], Batches]:
    def run(batches: Batches) -> Batches:
        for pdf in batches:
            out: dict[str, list] = {"subject_key": [], "function": [], "match_key": []}
            for v in pdf[column]:
                if pd.isna(v):
                    continue
                text = str(v)
                sk = key.subject_key(text)
                for name in HASH_NAMES:
                    out["subject_key"].append(sk)
                    out["function"].append(name)
                    out["match_key"].append(key.subject_key(HASH_FUNCTIONS[name](text)))
            yield pd.DataFrame(out)

    return run


def match_keys(raw: DataFrame, key: PseudonymKey, column: str = "subject_id") -> DataFrame:
    """DataFrame[subject_key, function, match_key] of every raw id in ``column``, distinct.

    Runs on the executors (vectorised batches); the raw ids do not leave the plan.
    """
    return raw.select(column).mapInPandas(_rows(key, column), SCHEMA).distinct()


def record(ctx, raw: DataFrame, key: PseudonymKey) -> None:  # noqa: ANN001 - JobContext
    """Upsert the match keys of the landed requests' subjects into :data:`TABLE`."""
    rows = match_keys(raw, key).withColumn("landed_on", F.lit(ctx.run_date))
    ctx.store.upsert(TABLE, rows, keys=["subject_key", "function"])
