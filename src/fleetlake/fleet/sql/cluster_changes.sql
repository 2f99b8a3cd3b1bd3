-- fleet.cluster_changes: each change of a deployment's tracked fields between two versions of its
-- history (fleet.cluster_history, dlt's SCD2 table), and its removal from the vendor's lists.
WITH
versions AS (
    SELECT
        h.*,
        lag(h.state) OVER w AS old_state,
        lag(h.node_count) OVER w AS old_node_count,
        lag(h.node_size) OVER w AS old_node_size,
        lag(h.storage_gib) OVER w AS old_storage_gib,
        lag(h.version) OVER w AS old_version,
        lag(h.kind) OVER w AS old_kind,
        row_number() OVER w AS n
    FROM fleet.cluster_history AS h
    WINDOW w AS (PARTITION BY h.vendor, h.account, h.cluster_id ORDER BY h._dlt_valid_from)
),
changes AS (
    SELECT vendor, account, cluster_id, cluster_name, field, old_value, new_value, _dlt_valid_from AS seen_at
    FROM versions,
    LATERAL (VALUES
        ('state', old_state, state),
        ('node_count', CAST(old_node_count AS VARCHAR), CAST(node_count AS VARCHAR)),
        ('node_size', old_node_size, node_size),
        ('storage_gib', CAST(old_storage_gib AS VARCHAR), CAST(storage_gib AS VARCHAR)),
        ('version', old_version, version),
        ('kind', old_kind, kind)
    ) AS f(field, old_value, new_value)
    WHERE n > 1 AND old_value IS DISTINCT FROM new_value
),
removals AS (
    SELECT vendor, account, cluster_id, cluster_name, 'cluster', 'listed', 'gone', _dlt_valid_to
    FROM versions AS v
    WHERE _dlt_valid_to IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM fleet.cluster_history AS later
        WHERE later.vendor = v.vendor AND later.account = v.account AND later.cluster_id = v.cluster_id
          AND later._dlt_valid_from >= v._dlt_valid_to
    )
)
SELECT * FROM changes UNION ALL SELECT * FROM removals
ORDER BY seen_at, vendor, account, cluster_id, field
