-- id: FL008
-- severity: high
-- title: TiDB Starter/Essential public endpoint open to every address (0.0.0.0/0)
-- fix: Replace the 0.0.0.0/0 entry of the cluster's authorized networks with your clients' ranges (Networking > Public endpoint), or disable the public endpoint and use a private one.
SELECT 'tidb' AS vendor, s.fleetlake_account AS account, 'cluster' AS resource_type, s.cluster_id AS resource_id,
       coalesce(s.display_name, s.cluster_id) AS resource_name, 'authorized networks: ' || CAST(s.endpoints__public__authorized_networks AS VARCHAR) AS detail
FROM tidb_instance_data.serverless_clusters AS s
WHERE NOT coalesce(s.endpoints__public__disabled, false)
  AND CAST(s.endpoints__public__authorized_networks AS VARCHAR) LIKE '%0.0.0.0/0%'
