"""Deletion annotations: static validation, dangling edges, dynamic heuristics and their P/R."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from audits.annotations.checks import (
    FINDINGS_SCHEMA,
    AnnotationFinding,
    annotation_findings,
    dangling_edges,
    validate_annotations,
)
from audits.annotations.heuristics import (
    HeuristicOptions,
    edge_features,
    heuristic_findings,
    predict_annotations,
    prediction_scores,
)
from audits.annotations.sections import AnnotationError

UTC = timezone.utc
T0 = datetime(2025, 1, 1, tzinfo=UTC)
D = timedelta(days=1)

INVENTORY = T.StructType(
    [
        T.StructField("edge_type", T.StringType()),
        T.StructField("src_type", T.StringType()),
        T.StructField("src_key", T.StringType()),
        T.StructField("dst_type", T.StringType()),
        T.StructField("dst_key", T.StringType()),
        T.StructField("created_at", T.TimestampType()),
        T.StructField("deleted_src", T.BooleanType()),
    ]
)


def edge(edge_type, src_type, dst_type, deletion):
    return {"src": src_type, "dst": dst_type, "deletion": deletion}


# ---------------------------------------------------------------- static validation


def test_static_validation_reports_each_rule():
    annotations = {
        "objects": {
            "user": "directly",
            "post": "by_any",
            "comment": "by_any",
            "photo": "by_user_only",
            "tag": "by_any",  # only a shallow edge leads to it
            "draft": "by_post_only",  # reached, but only from user, not from post
            "cache": "short_ttl",
            "cache_entry": "by_any",  # short_ttl is a root
            "page": "not_deleted",
            "hashtag": "by_any",
            "country": "sometimes",
        },
        "edges": {
            "user_posts": edge("user_posts", "user", "post", "deep"),
            "post_comments": edge("post_comments", "post", "comment", "deep"),
            "user_photos": edge("user_photos", "user", "photo", "deep"),
            "photo_tags": edge("photo_tags", "photo", "tag", "shallow"),
            "user_drafts": edge("user_drafts", "user", "draft", "deep"),
            "cache_entries": edge("cache_entries", "cache", "cache_entry", "deep"),
            "page_hashtags": edge("page_hashtags", "page", "hashtag", "refcount"),
            "user_likes": edge("user_likes", "user", "page", "sometimes"),
            "post_place": {"src": "post", "deletion": "shallow"},
        },
    }
    observed = [
        ("user_posts", "user", "post"),
        ("user_posts", "dating_user", "post"),  # reuse by a new source type
        ("user_mailbox", "user", "mailbox"),  # no annotation at all
    ]
    got = validate_annotations(annotations, observed=observed)
    F = AnnotationFinding
    assert got == [
        F(
            "edge_type_reused",
            "user_posts",
            "dating_user",
            "observed dating_user->post, declared user->post: annotate the new use",
        ),
        F(
            "invalid_annotation",
            None,
            "country",
            "'sometimes' is not one of directly, by_any, by_x_only, short_ttl, not_deleted or "
            "by_<type>_only",
        ),
        F("invalid_annotation", "post_place", None, "declares no dst object type"),
        F(
            "invalid_annotation",
            "user_likes",
            None,
            "deletion is 'sometimes', expected one of deep, shallow, refcount",
        ),
        F(
            "refcount_target_uncounted",
            "page_hashtags",
            "hashtag",
            "refcount edges page_hashtags all come from types that are never deleted: the count "
            "of hashtag never drops to zero",
        ),
        F(
            "unannotated_edge_type",
            "user_mailbox",
            None,
            "observed (user->mailbox) but has no deletion annotation",
        ),
        F(
            "unannotated_object_type",
            None,
            "dating_user",
            "used by edges but has no deletion annotation",
        ),
        F(
            "unannotated_object_type",
            None,
            "mailbox",
            "used by edges but has no deletion annotation",
        ),
        F(
            "unreachable_object_type",
            None,
            "draft",
            "annotated by_post_only but no chain of deep/refcount edges from post (itself "
            "deleted) reaches it: its objects are never deleted",
        ),
        F(
            "unreachable_object_type",
            None,
            "hashtag",
            "annotated by_any but no chain of deep/refcount edges from a deletion root reaches "
            "it: its objects are never deleted",
        ),
        F(
            "unreachable_object_type",
            None,
            "tag",
            "annotated by_any but no chain of deep/refcount edges from a deletion root reaches "
            "it: its objects are never deleted",
        ),
    ]


def test_static_validation_clean_and_malformed():
    clean = {
        "objects": {
            "user": "directly",
            "post": "by_any",
            "sticker": "by_any",
            "photo": "by_user_only",
        },
        "edges": {
            "user_posts": edge("", "user", "post", "deep"),
            "post_stickers": edge("", "post", "sticker", "refcount"),
            "user_photos": edge("", "user", "photo", "deep"),
        },
    }
    assert validate_annotations(clean, observed=[("user_posts", "user", "post")]) == []
    with pytest.raises(AnnotationError):
        validate_annotations({"objects": ["user"], "edges": {}})


def test_the_audit_takes_the_loaded_model(tmp_path):
    """The file is validated once into the model; the checks take that model as it is."""
    import yaml

    from audits.annotations.sections import as_annotations
    from jobs.config.catalog import load_annotations

    doc = {
        "objects": {"user": "directly", "post": "by_any", "tag": "by_any"},
        "edges": {
            "user_posts": {"src": "user", "dst": "post", "deletion": "deep"},
            "post_tags": {"src": "post", "dst": "tag", "deletion": "shallow"},
        },
    }
    path = tmp_path / "annotations.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    model = load_annotations(path)
    assert as_annotations(model) is model
    assert as_annotations(doc).edges == model.edges and as_annotations(doc).objects == model.objects
    observed = [("user_posts", "user", "post"), ("user_likes", "user", "post")]
    got = validate_annotations(model, observed=observed)
    assert got == validate_annotations(doc, observed=observed)
    assert {(f.finding, f.edge_type, f.object_type) for f in got} == {
        ("unannotated_edge_type", "user_likes", None),
        ("unreachable_object_type", None, "tag"),
    }


# ---------------------------------------------------------------- dangling data


def test_dangling_edges_grouped_with_example(spark):
    inventory = spark.createDataFrame(
        [
            ("mailbox", "user", "u1", "mailbox", "m1", T0, False),
            ("mailbox", "dating_user", "d7", "mailbox", "m9", T0, True),
            ("mailbox", "dating_user", "d3", "mailbox", "m4", T0, True),
            ("viewed", "user", "u2", "page", "p1", T0, True),
        ],
        INVENTORY,
    )
    want = spark.createDataFrame(
        [
            (
                "dangling_edges",
                "mailbox",
                "dating_user",
                "2 edge(s) still exist after their dating_user was deleted, e.g. d3 -> m4 "
                "(mailbox)",
            ),
            (
                "dangling_edges",
                "viewed",
                "user",
                "1 edge(s) still exist after their user was deleted, e.g. u2 -> p1 (page)",
            ),
        ],
        FINDINGS_SCHEMA,
    )
    assert_df_equality(dangling_edges(inventory), want, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------- heuristics on inline edges

FEATURES = (
    "edge_type string, edges long, new_owned double, shared double, older double, same_type boolean"
)
PREDICTIONS = FEATURES + ", predicted string, reason string"


def small_inventory(spark):
    return spark.createDataFrame(
        [
            ("posts", "user", "u1", "post", "p1", T0 + D, False),
            ("posts", "user", "u1", "post", "p2", T0 + 2 * D, False),
            ("likes", "user", "u1", "page", "g1", T0 + 3 * D, False),
            ("likes", "user", "u2", "page", "g1", T0, False),
            ("friend", "user", "u1", "user", "u2", T0 + 4 * D, False),
            ("replies", "comment", "c1", "comment", "c2", T0 + 5 * D, False),
        ],
        INVENTORY,
    )


def test_edge_features(spark):
    want = spark.createDataFrame(
        [
            ("posts", 2, 1.0, 0.0, 0.0, False),
            ("likes", 2, 0.0, 1.0, 0.5, False),  # u1 appears at T0+1d, page g1 at T0
            ("friend", 1, 0.0, 0.0, 1.0, True),
            ("replies", 1, 1.0, 0.0, 0.0, True),
        ],
        FEATURES,
    )
    assert_df_equality(
        edge_features(small_inventory(spark)), want, ignore_row_order=True, ignore_nullable=True
    )


def test_predictions_conflicts_and_too_few(spark):
    features = edge_features(small_inventory(spark))
    got = predict_annotations(features, HeuristicOptions(min_edges=1))
    want = spark.createDataFrame(
        [
            ("posts", 2, 1.0, 0.0, 0.0, False, "deep", "new_owned"),
            ("likes", 2, 0.0, 1.0, 0.5, False, "shallow", "many_to_one,to_old_object"),
            ("friend", 1, 0.0, 0.0, 1.0, True, "shallow", "same_type,to_old_object"),
            ("replies", 1, 1.0, 0.0, 0.0, True, None, "conflict:new_owned,same_type"),
        ],
        PREDICTIONS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    few = predict_annotations(features, HeuristicOptions(min_edges=2)).select(
        "edge_type", "predicted", "reason"
    )
    assert_df_equality(
        few,
        spark.createDataFrame(
            [
                ("posts", "deep", "new_owned"),
                ("likes", "shallow", "many_to_one,to_old_object"),
                ("friend", None, "too_few_edges"),
                ("replies", None, "too_few_edges"),
            ],
            "edge_type string, predicted string, reason string",
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_heuristic_findings_detail(spark):
    predictions = predict_annotations(
        edge_features(small_inventory(spark)), HeuristicOptions(min_edges=1)
    )
    annotations = {
        "objects": {},
        "edges": {
            "posts": edge("", "user", "post", "shallow"),  # looks owned: retention risk
            "likes": edge("", "user", "page", "deep"),  # looks shared: over-deletion risk
            "friend": edge("", "user", "user", "refcount"),  # refcount: never a disagreement
            "replies": edge("", "comment", "comment", "shallow"),  # conflict: no prediction
        },
    }
    want = spark.createDataFrame(
        [
            (
                "heuristic_predicts_deep",
                "posts",
                "post",
                "declared shallow, observed edges suggest deep (new_owned; 2 edges: 100.0% new and "
                "owned, 0.0% shared targets, 0.0% older targets)",
            ),
            (
                "heuristic_predicts_shallow",
                "likes",
                "page",
                "declared deep, observed edges suggest shallow (many_to_one,to_old_object; "
                "2 edges: 0.0% new and owned, 100.0% shared targets, 50.0% older targets)",
            ),
        ],
        FINDINGS_SCHEMA,
    )
    assert_df_equality(
        heuristic_findings(predictions, annotations),
        want,
        ignore_row_order=True,
        ignore_nullable=True,
    )


# ---------------------------------------------------------------- generated inventory, P/R


class Generator:
    """A seeded synthetic social network: edge types with known deep/shallow truth."""

    def __init__(self, seed: int = 5):
        self.rng = random.Random(seed)
        self.rows: list[tuple] = []
        self.truth: dict[str, tuple[str, str, str]] = {}
        self.created: dict[str, list[tuple[str, datetime]]] = {}
        self.counter = 0
        users = [(f"u{i}", T0 + self.rng.uniform(0, 200) * D) for i in range(40)]
        self.created["user"] = users
        for uid, at in users:  # an account edge dates every user
            self.rows.append(("account", "user", uid, "account", f"a{uid}", at, False))
        self.truth["account"] = ("user", "account", "deep")

    def _new(self, kind: str, at: datetime) -> str:
        self.counter += 1
        oid = f"{kind[0]}{self.counter}"
        self.created.setdefault(kind, []).append((oid, at))
        return oid

    def _add(self, name, src_type, sid, dst_type, did, at):
        deleted = self.rng.random() < 0.02
        self.rows.append((name, src_type, sid, dst_type, did, at, deleted))

    def owned(self, name, src_type, dst_type, truth, *, shared_share=0.0, older_share=0.0):
        """Each source creates 1-2 new targets of its own; optionally some shared/older ones."""
        pool = [(self._new(dst_type, T0 - 400 * D * self.rng.random()), None) for _ in range(4)]
        for sid, born in list(self.created[src_type]):
            for _ in range(self.rng.randint(1, 2)):
                r = self.rng.random()
                if r < shared_share:
                    did = self.rng.choice(pool)[0]
                    at = born + self.rng.uniform(0, 30) * D
                elif r < shared_share + older_share:
                    did = self._new(dst_type, born - self.rng.uniform(1, 60) * D)
                    at = born + self.rng.uniform(0, 30) * D
                    self._add("made_by", "system", "s0", dst_type, did, born - 61 * D)
                else:
                    at = born + self.rng.uniform(0, 30) * D
                    did = self._new(dst_type, at)
                self._add(name, src_type, sid, dst_type, did, at)
        self.truth[name] = (src_type, dst_type, truth)

    def shared(self, name, src_type, dst_type, truth, pool_size=6):
        """Sources reference a few long-existing targets."""
        pool = [self._new(dst_type, T0 - 500 * D) for _ in range(pool_size)]
        for did in pool:
            self._add("made_by", "system", "s0", dst_type, did, T0 - 500 * D)
        for sid, born in list(self.created[src_type]):
            for did in self.rng.sample(pool, self.rng.randint(1, 2)):
                self._add(name, src_type, sid, dst_type, did, born + self.rng.uniform(0, 60) * D)
        self.truth[name] = (src_type, dst_type, truth)

    def same_type(self, name, kind, truth, *, owned=False):
        objs = list(self.created[kind])
        if owned:  # each object gets a new object of its own type (revisions, replies)
            for sid, born in objs:
                at = born + self.rng.uniform(0, 10) * D
                self._add(name, kind, sid, kind, self._new(kind, at), at)
            self.truth[name] = (kind, kind, truth)
            return
        for sid, born in objs:
            did, dborn = self.rng.choice(objs)
            if did != sid:
                self._add(name, kind, sid, kind, did, max(born, dborn) + D)
        self.truth[name] = (kind, kind, truth)


def generated(seed: int = 5) -> Generator:
    g = Generator(seed)
    for name, dst in [
        ("user_posts", "post"),
        ("user_photos", "photo"),
        ("user_albums", "album"),
        ("user_messages", "message"),
        ("user_mailbox", "mailbox"),
        ("user_life_events", "life_event"),
        ("user_settings", "setting"),
        ("user_stories", "story"),
    ]:
        g.owned(name, "user", dst, "deep")
    g.owned("album_items", "album", "album_item", "deep")
    g.owned("post_attachments", "post", "attachment", "deep")
    g.owned("user_drafts", "user", "draft", "deep", shared_share=0.3)  # ambiguous: abstains
    g.owned("user_devices", "user", "device", "deep", older_share=0.35)  # ambiguous: abstains
    g.same_type("post_revisions", "post", "deep", owned=True)  # same type but deep: conflict
    for name, dst in [
        ("user_likes_page", "page"),
        ("user_groups", "group"),
        ("user_follows", "celebrity"),
        ("post_places", "place"),
        ("user_apps", "app"),
        ("photo_licenses", "license"),
        ("message_stickers", "sticker"),
        ("user_checkins", "venue"),
    ]:
        g.shared(
            name,
            "post"
            if name.startswith("post")
            else "photo"
            if name.startswith("photo")
            else "message"
            if name.startswith("message")
            else "user",
            dst,
            "shallow",
        )
    g.same_type("user_friends", "user", "shallow")
    g.same_type("user_blocks", "user", "shallow")
    g.owned("user_invoices", "user", "invoice", "shallow")  # legal hold: looks deep, is shallow
    g.truth["made_by"] = ("system", "*", "shallow")
    return g


def annotations_of(truth: dict[str, tuple[str, str, str]]) -> dict:
    return {
        "objects": {},
        "edges": {n: {"src": s, "dst": d, "deletion": a} for n, (s, d, a) in truth.items()},
    }


def test_precision_recall_on_generated_inventory(spark):
    g = generated()
    inventory = spark.createDataFrame(g.rows, INVENTORY)
    predictions = predict_annotations(edge_features(inventory))
    score = prediction_scores(predictions, annotations_of(g.truth))
    print(
        f"\nheuristics on generated data: P={score.precision:.1%} R={score.recall:.1%} "
        f"({score.correct}/{score.predicted} predicted, {score.evaluated} evaluated)"
    )
    assert score.precision >= 0.9 and score.recall >= 0.7
    # 26 types: 2 ambiguous deep ones abstain, a deep same-type one conflicts (abstains), and two
    # shallow ones that look owned are predicted deep (wrong): 21 right of 23 predicted
    assert (score.evaluated, score.predicted, score.correct) == (26, 23, 21)


def test_all_findings_on_generated_inventory_with_mislabels(spark):
    g = generated(seed=11)
    inventory = spark.createDataFrame([r[:6] + (False,) for r in g.rows], INVENTORY)
    annotations = annotations_of(g.truth)
    annotations["edges"]["user_life_events"]["deletion"] = "shallow"  # DELF's life events
    annotations["edges"]["user_groups"]["deletion"] = "deep"
    annotations["edges"]["made_by"]["dst"] = "post"
    objects = {
        t: "by_any" for spec in annotations["edges"].values() for t in (spec["src"], spec["dst"])
    }
    annotations["objects"] = objects | {
        "user": "directly",
        "system": "not_deleted",
        "page": "not_deleted",
        "group": "not_deleted",
        "celebrity": "not_deleted",
        "place": "not_deleted",
        "app": "not_deleted",
        "license": "not_deleted",
        "sticker": "not_deleted",
        "venue": "not_deleted",
        "invoice": "not_deleted",
    }
    got = annotation_findings(annotations, inventory).select("finding", "edge_type", "object_type")
    reused = sorted(
        {
            d
            for e, s, _, d, *_ in [(r[0], r[1], r[2], r[3]) for r in g.rows]
            if e == "made_by" and d != "post"
        }
    )
    want = [
        ("heuristic_predicts_deep", "user_life_events", "life_event"),  # the mislabel
        ("unreachable_object_type", None, "life_event"),  # ... which also strands life events
        ("heuristic_predicts_shallow", "user_groups", "group"),  # the other mislabel
        # a correct shallow annotation that looks deep: for a reviewer to confirm (user_invoices
        # looks deep too, but invoice is annotated not_deleted: deep is never suggested into it)
        ("heuristic_predicts_deep", "made_by", "post"),
    ]
    want += [("edge_type_reused", "made_by", d) for d in reused]
    assert reused
    schema = "finding string, edge_type string, object_type string"
    assert_df_equality(
        got, spark.createDataFrame(want, schema), ignore_row_order=True, ignore_nullable=True
    )
