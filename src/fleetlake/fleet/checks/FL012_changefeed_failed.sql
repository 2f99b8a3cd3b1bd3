-- id: FL012
-- severity: medium
-- title: Changefeed failed: replication out of the cluster has stopped
-- fix: Read the changefeed's error, fix the downstream (broker, sink database, bucket permissions), then resume the changefeed in the TiDB Cloud console (Changefeed > Resume) before its checkpoint falls out of the cluster's GC window.
SELECT f.vendor, f.account, 'changefeed' AS resource_type, f.changefeed_id AS resource_id,
       coalesce(f.changefeed_name, f.changefeed_id) || ' (' || coalesce(f.cluster_name, f.cluster_id) || ')' AS resource_name,
       'state: ' || coalesce(f.vendor_state, '') || coalesce('; error: ' || f.error, '') AS detail
FROM fleet.changefeeds AS f
WHERE f.state = 'failed'
