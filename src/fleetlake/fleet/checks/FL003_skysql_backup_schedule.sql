-- id: FL003
-- severity: medium
-- title: SkySQL service without an active backup schedule
-- fix: Create a backup schedule for the service (SkySQL portal, Backups > Schedules, or POST /skybackup/v1/backups/schedules).
SELECT c.vendor, c.account, 'service' AS resource_type, c.cluster_id AS resource_id, c.cluster_name AS resource_name,
       CASE WHEN count(s.id) = 0 THEN 'no schedule' ELSE count(s.id) || ' schedule(s), all suspended' END AS detail
FROM fleet.clusters AS c
LEFT JOIN skysql_data.backup_schedules AS s ON s.fleetlake_account = c.account AND s.service_id = c.cluster_id
WHERE c.vendor = 'skysql' AND c.state NOT IN ('deleting', 'creating')
GROUP BY ALL
HAVING count(s.id) FILTER (WHERE NOT coalesce(s.suspended, false)) = 0
