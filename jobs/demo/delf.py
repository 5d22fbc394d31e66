"""The DELF object graph of the demo company: deletion annotations (with injected mistakes) and
the edge inventory (with dangling edges of deleted users).

True semantics per edge type are known by construction: a *deep* edge points to an object created
by (and only referenced from) its source; a *shallow* edge points to an older object shared by many
sources, or to an object of the same type.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jobs.demo.deletions import Deletion, user_object_id
from jobs.demo.io import JsonlFile, iso, truncated, without
from jobs.demo.population import Customer

OBJECTS: dict[str, str] = {
    "user": "directly",
    "post": "by_any",
    "comment": "by_any",
    "photo": "by_any",
    "like": "by_any",
    "session": "short_ttl",
    "message": "by_any",
    "device": "by_x_only",
    "group": "not_deleted",
}
# edge type: (src type, dst type, true deletion, declared deletion or None when unannotated)
EDGES: dict[str, tuple[str, str, str, str | None]] = {
    "user_to_post": ("user", "post", "deep", "deep"),
    "post_to_comment": ("post", "comment", "deep", "deep"),
    "user_to_comment": ("user", "comment", "deep", "deep"),
    "comment_to_post": ("comment", "post", "shallow", "deep"),  # shallow declared deep
    "user_to_photo": ("user", "photo", "deep", "shallow"),  # deep declared shallow
    "user_to_like": ("user", "like", "deep", "deep"),
    "like_to_post": ("like", "post", "shallow", "shallow"),
    "user_to_session": ("user", "session", "deep", "deep"),
    "user_to_device": ("user", "device", "deep", "deep"),
    "user_to_message": ("user", "message", "deep", None),  # unannotated
    "user_to_group": ("user", "group", "shallow", "shallow"),
    "user_to_friend": ("user", "user", "shallow", "shallow"),
}
DANGLING_TYPES = ("user_to_session", "user_to_photo")


def annotations() -> dict[str, Any]:
    """The declared annotations (as written to annotations.yaml)."""
    return {
        "objects": dict(OBJECTS),
        "edges": {
            name: {"src": s, "dst": d, "deletion": decl}
            for name, (s, d, _, decl) in EDGES.items()
            if decl is not None
        },
    }


def expected_findings() -> list[dict[str, Any]]:
    """The annotation findings the static and dynamic validation must report."""
    return [
        {
            "check": "unannotated_edge_type",
            "edge_type": "user_to_message",
            "expect": "annotation_findings",
        },
        {
            "check": "unreachable_object_type",
            "object_type": "photo",
            "detail": "only inbound edge user_to_photo is declared shallow",
            "expect": "annotation_findings",
        },
        {
            "check": "unreachable_object_type",
            "object_type": "message",
            "detail": "only inbound edge user_to_message is unannotated",
            "expect": "annotation_findings",
        },
        {
            "check": "annotation_disagreement",
            "edge_type": "user_to_photo",
            "declared": "shallow",
            "true": "deep",
            "expect": "annotation_findings",
        },
        {
            "check": "annotation_disagreement",
            "edge_type": "comment_to_post",
            "declared": "deep",
            "true": "shallow",
            "expect": "annotation_findings",
        },
    ]


def build_edge_inventory(
    customers: list[Customer], deletions: list[Deletion], as_of: date, rng: random.Random
) -> tuple[JsonlFile, dict[str, Any]]:
    """The edge inventory; edges of completed deletions are gone except the injected dangling."""
    midnight = datetime.combine(as_of, time(), tzinfo=UTC)
    edges: list[dict[str, Any]] = []
    counter = {"n": 0}
    owner: dict[str, str] = {}

    def new(kind: str, user: str) -> str:
        counter["n"] += 1
        oid = f"{kind}:{counter['n']:08d}"
        owner[oid] = user
        return oid

    def edge(et: str, src: str, dst: str, ts: datetime) -> None:
        s, d, _, _ = EDGES[et]
        edges.append(
            {
                "edge_type": et,
                "src_type": s,
                "src_id": src,
                "dst_type": d,
                "dst_id": dst,
                "created_at": iso(min(ts, midnight - timedelta(days=2))),
                "deleted_src": False,
            }
        )

    groups = [f"group:{i:04d}" for i in range(15)]
    group_created = midnight - timedelta(days=2000)
    posts: list[tuple[str, datetime]] = []
    users = [(user_object_id(c.customer_id), c) for c in customers]
    for uid, c in users:
        life = max((midnight - c.signup).total_seconds() - 3 * 86400, 3600)

        def later(frac: float, c: Customer = c, life: float = life) -> datetime:
            return c.signup + timedelta(seconds=int(life * frac))

        for _ in range(rng.randint(0, 3)):
            pid = new("post", uid)
            ts = later(rng.uniform(0.0, 0.6))
            edge("user_to_post", uid, pid, ts)
            posts.append((pid, ts))
        for _ in range(rng.randint(0, 2)):
            edge("user_to_photo", uid, new("photo", uid), later(rng.uniform(0, 1)))
        for _ in range(rng.randint(1, 3)):
            edge("user_to_session", uid, new("session", uid), later(rng.uniform(0.8, 1)))
        edge("user_to_device", uid, new("device", uid), later(rng.uniform(0, 0.2)))
        for _ in range(rng.randint(0, 2)):
            edge("user_to_message", uid, new("message", uid), later(rng.uniform(0, 1)))
        for g in rng.sample(groups, rng.randint(0, 2)):
            edge("user_to_group", uid, g, max(later(rng.uniform(0, 1)), group_created))
        for fid, fc in rng.sample(users, min(len(users), rng.randint(0, 3))):
            if fid != uid:
                edge("user_to_friend", uid, fid, max(c.signup, fc.signup) + timedelta(days=1))
    for uid, _c in users:
        if not posts:
            break
        for _ in range(rng.randint(0, 3)):
            pid, pts = rng.choice(posts)
            ts = pts + timedelta(hours=rng.randint(1, 400))
            cid = new("comment", uid)
            edge("user_to_comment", uid, cid, ts)
            edge("post_to_comment", pid, cid, ts)
            edge("comment_to_post", cid, pid, ts)
        for _ in range(rng.randint(0, 4)):
            pid, pts = rng.choice(posts)
            lid = new("like", uid)
            ts = pts + timedelta(hours=rng.randint(1, 400))
            edge("user_to_like", uid, lid, ts)
            edge("like_to_post", lid, pid, ts)
    # deletion of completed subjects: objects reachable through true deep edges go, with edges
    gone = {user_object_id(d.customer.customer_id) for d in deletions if d.completed}
    changed = True
    while changed:
        changed = False
        for e in edges:
            if (
                e["src_id"] in gone
                and EDGES[e["edge_type"]][2] == "deep"
                and e["dst_id"] not in gone
            ):
                gone.add(e["dst_id"])
                changed = True
    kept: list[dict[str, Any]] = []
    dangling: dict[str, list[dict[str, Any]]] = {t: [] for t in DANGLING_TYPES}
    completed = [user_object_id(d.customer.customer_id) for d in deletions if d.completed]
    with_photo = {e["src_id"] for e in edges if e["edge_type"] == "user_to_photo"}
    leak_users = {completed[0]: "user_to_session", completed[1]: "user_to_session"}
    leak_users[next(u for u in completed[2:] if u in with_photo)] = "user_to_photo"
    for e in edges:
        if e["src_id"] in gone and leak_users.get(e["src_id"]) == e["edge_type"]:
            dangling[e["edge_type"]].append(dict(e, deleted_src=True))
        elif e["src_id"] not in gone and e["dst_id"] not in gone:
            kept.append(e)
    f = JsonlFile("edge_inventory", "edges.jsonl")
    for e in sorted(
        kept + [x for v in dangling.values() for x in v],
        key=lambda e: (e["created_at"], e["edge_type"], e["src_id"], e["dst_id"]),
    ):
        f.add(e)
    sample = dict(kept[0])
    f.inject_all(
        rng,
        [
            (truncated(sample), "truncated_json", "line cut in the middle"),
            (dict(sample, deleted_src="yes"), "bad_type", "deleted_src is not a boolean"),
            (without(sample, "edge_type"), "missing_field", "edge_type absent"),
        ],
    )
    truth = {
        "dangling": [
            {"edge_type": t, "count": len(v), "src_ids": sorted({e["src_id"] for e in v})}
            for t, v in sorted(dangling.items())
        ],
        "true_edge_deletion": {t: v[2] for t, v in EDGES.items()},
        "declared_edge_deletion": {t: v[3] for t, v in EDGES.items()},
        "edges_per_type": {t: sum(1 for e in kept if e["edge_type"] == t) for t in EDGES},
    }
    return f, truth
