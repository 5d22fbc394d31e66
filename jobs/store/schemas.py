"""The columns of every product table, as Spark DDL: the table contract of DESIGN.md §5 in code.

``jobs.registry.TABLES`` carries them (``TableSpec.schema``); ``tests/test_registry.py`` checks that
the demo nightly writes each table with exactly these columns and types, and the purge and restore
tests check their own tables. ``None``: the encrypted restoration log, written only by the purge,
whose binary fields are declared in ``audits.restoration.batch``.
"""

from __future__ import annotations

SCHEMAS: dict[str, str | None] = {
    "landed_files": (
        "source string, kind string, size bigint, mtime bigint, run_date date, lines bigint, "
        "accepted bigint, rejected bigint, held bigint, held_until timestamp, last_line bigint, "
        "sha256 string, skipped bigint"
    ),
    "landed_query_logs": (
        "query_id string, job_id string, engine string, user string, started_at timestamp, sql "
        "string, default_schema string, status string, action string, table string, finished_at "
        "timestamp, error string, destination string, format string, engine_lineage string, columns "
        "string, extra map<string,string>, source_file string, line bigint, landed_on date"
    ),
    "landed_openlineage": (
        "event_type string, event_time timestamp, run_id string, job_namespace string, job_name "
        "string, inputs string, outputs string, extra map<string,string>, raw_json string, "
        "source_file string, line bigint, landed_on date"
    ),
    "landed_training_configs": (
        "model_name string, input_dataset string, features string, output_model string, extra "
        "map<string,string>, source_file string, line bigint, landed_on date"
    ),
    "landed_probe_samples": (
        "request_id string, ts timestamp, role string, asset string, field string, value_hashes "
        "array<string>, extra map<string,string>, source_file string, line bigint, landed_on date"
    ),
    "landed_edge_inventory": (
        "edge_type string, src_type string, dst_type string, created_at timestamp, deleted_src "
        "boolean, extra map<string,string>, source_file string, line bigint, landed_on date, "
        "src_key string, dst_key string"
    ),
    "deletion_events": (
        "deletion_id string, object_type string, event string, ts timestamp, scheduled_for "
        "timestamp, points_deleted bigint, detail string, extra map<string,string>, source_file "
        "string, line bigint, landed_on date, object_key string"
    ),
    "deletion_requests": (
        "deletion_id string, subject_type string, requested_at timestamp, sla_days int, channel "
        "string, identity_verification string, decision string, exemption string, approved_by "
        "string, executed_by string, recipients_notified_at timestamp, subject_informed_at "
        "timestamp, extra map<string,string>, source_file string, line bigint, landed_on date, "
        "subject_key string"
    ),
    "held_inputs": "source string, kind string, line bigint, until timestamp, reason string, run_date date",
    "subject_match_keys": "subject_key string, function string, match_key string, landed_on date",
    "pseudonym_key_check": "check_value string, recorded_at timestamp, recorded_by string",
    "rejected_inputs": "source string, location string, reason string, raw string, run_date date, kind string",
    "relandings": (
        "requested_at timestamp, selection string, kind string, source string, lines bigint, "
        "first_rejected_on date"
    ),
    "input_expectations": (
        "run_date date, kind string, expectation string, column string, success boolean, "
        "element_count bigint, unexpected_count bigint, parameters string"
    ),
    "lineage_observations": (
        "edge_id string, run_date date, source_asset string, source_column string, target_asset "
        "string, target_column string, transformation_type string, transformation_subtype string, "
        "signal string, masking boolean, confidence double, evidence array<string>, first_seen "
        "timestamp, last_seen timestamp, seen_count bigint"
    ),
    "lineage_edges": (
        "edge_id string, source_asset string, source_column string, target_asset string, "
        "target_column string, transformation_type string, transformation_subtype string, signal "
        "string, masking boolean, confidence double, evidence array<string>, first_seen "
        "timestamp, last_seen timestamp, seen_count bigint"
    ),
    "schema_events": (
        "event_id string, run_date date, asset string, event string, column string, detail "
        "string, dialect string, fingerprint string, first_seen timestamp, last_seen timestamp, "
        "seen_count bigint, evidence array<string>"
    ),
    "assets": (
        "asset_id string, kind string, name string, owner string, zone string, first_seen "
        "timestamp, last_seen timestamp"
    ),
    "columns": (
        "asset_id string, column string, data_type string, data_category string, is_identifier "
        "boolean, classification string"
    ),
    "probe_flows": (
        "source_asset string, source_column string, target_asset string, target_column string, "
        "transformation_type string, transformation_subtype string, masking boolean, signal "
        "string, confidence double, evidence array<string>, first_seen timestamp, last_seen "
        "timestamp, seen_count bigint, match string, run_date date"
    ),
    "flows_not_observed": "source_asset string, target_asset string, status string, run_date date",
    "lineage_closure": (
        "source_asset string, source_column string, target_asset string, target_column string, "
        "depth int, confidence double, path array<string>, run_date date, level string, "
        "masked_on_path boolean, last_hop_masked boolean"
    ),
    "lineage_disagreements": (
        "source_asset string, source_column string, target_asset string, target_column string, "
        "found_by string, engine string, seen_count bigint, evidence array<string>, run_date date"
    ),
    "policy_violations": (
        "policy string, data_category string, source_asset string, source_column string, "
        "target_asset string, target_column string, zone string, depth int, confidence double, "
        "path array<string>, run_date date"
    ),
    "new_flows": (
        "level string, source_asset string, source_column string, target_asset string, "
        "target_column string, depth int, confidence double, path array<string>, run_date date"
    ),
    "review_decisions": (
        "node string, decision string, cascade boolean, reviewer string, reason string, "
        "decided_at timestamp"
    ),
    "deletion_anomalies": (
        "deletion_id string, check string, detail string, first_detected timestamp, last_detected "
        "timestamp, status string, resolved_on date, run_date date"
    ),
    "retention_violations": (
        "table string, column string, data_category string, oldest timestamp, rows_over bigint, "
        "days_over bigint, kind string, detail string, run_date date"
    ),
    "residual_findings": (
        "deletion_id string, subject_key string, asset string, column string, rows_found bigint, "
        "deleted_at timestamp, days_overdue int, status string, detail string, run_date date"
    ),
    "residual_scans": (
        "deletion_id string, subject_key string, asset string, column string, status string, "
        "rows_found bigint, detail string, table_status string, run_date date"
    ),
    "annotation_findings": "finding string, edge_type string, object_type string, detail string, run_date date",
    "restoration_log": None,
    "restoration_log_health": (
        "run_date date, day date, age_days int, written bigint, restored bigint, entries bigint, "
        "verified bigint, expired bigint, tampered bigint, removed bigint, readable_past_window "
        "bigint, expired_within_window bigint"
    ),
    "purge_journal": (
        "purge_id string, deletion_id string, table string, state string, entries bigint, "
        "started_at timestamp, committed_at timestamp, detail string, run_date date"
    ),
    "restore_journal": (
        "entry_id string, entry_created_at timestamp, deletion_id string, table string, outcome "
        "string, restored_at timestamp, run_date date"
    ),
    "run_manifest": (
        "job string, run_date date, started_at timestamp, finished_at timestamp, status string, "
        "inputs_read bigint, rows_written bigint, rows_rejected bigint, findings bigint, engine "
        "string, version string, details string, error string"
    ),
}
