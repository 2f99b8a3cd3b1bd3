-- id: FL002
-- severity: high
-- title: SkySQL service without a successful backup in the last 24 hours
-- fix: Look at the service's backup schedule and its failed backups in the SkySQL portal (Backups), or start a backup now.
SELECT c.vendor, c.account, 'service' AS resource_type, c.cluster_id AS resource_id, c.cluster_name AS resource_name,
       'last successful backup: ' || coalesce(CAST(max(b.end_time) AS VARCHAR), 'none loaded') AS detail
FROM fleet.clusters AS c
LEFT JOIN skysql_data.backups AS b
    ON b.fleetlake_account = c.account AND b.service_id = c.cluster_id AND lower(b.status) IN ('succeeded', 'success')
WHERE c.vendor = 'skysql' AND c.state NOT IN ('deleting', 'creating')
GROUP BY ALL
HAVING max(b.end_time) IS NULL OR max(b.end_time) < fleet_now() - INTERVAL 24 HOUR
