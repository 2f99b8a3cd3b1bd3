-- id: FL001
-- severity: high
-- title: TiDB Dedicated cluster without a successful backup in the last 24 hours
-- fix: Check the cluster's automatic backup setting and the last backups' errors in the TiDB Cloud console (Backup page of the cluster), or take a manual backup now.
SELECT c.vendor, c.account, 'cluster' AS resource_type, c.cluster_id AS resource_id, c.cluster_name AS resource_name,
       'last successful backup: ' || coalesce(CAST(max(b.create_timestamp) AS VARCHAR), 'none loaded') AS detail
FROM fleet.clusters AS c
LEFT JOIN tidb_instance_data.backups AS b
    ON b.fleetlake_account = c.account AND b.cluster_id = c.cluster_id AND upper(b.status) = 'SUCCESS'
WHERE c.vendor = 'tidb' AND c.kind = 'dedicated' AND c.state NOT IN ('deleting', 'creating', 'paused')
GROUP BY ALL
HAVING max(b.create_timestamp) IS NULL OR max(b.create_timestamp) < fleet_now() - INTERVAL 24 HOUR
