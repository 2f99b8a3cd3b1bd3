-- fleet.changefeeds: every replication stream out of a deployment (TiDB Cloud Dedicated's changefeeds),
-- with its state in the deployments' vocabulary and the cluster it reads, by id and name.
SELECT
    'tidb' AS vendor,
    f.fleetlake_account AS account,
    f.cluster_id,
    c.cluster_name,
    f.id AS changefeed_id,
    f.name AS changefeed_name,
    -- the vendor's WARNING is a changefeed that still replicates with retried errors: running, as for clusters
    fleet_state(f.state) AS state,
    f.state AS vendor_state,
    lower(f.downstream_type) AS downstream,
    f.replication_capacity,
    f.create_time AS created_at,
    f.checkpoint_ts AS checkpoint_at,
    nullif(trim(f.error), '') AS error,
    'tidb_instance_data.dedicated_changefeeds' AS source_table
FROM tidb_instance_data.dedicated_changefeeds AS f
LEFT JOIN fleet.clusters AS c ON c.vendor = 'tidb' AND c.account = f.fleetlake_account AND c.cluster_id = f.cluster_id
ORDER BY account, cluster_id, changefeed_id
