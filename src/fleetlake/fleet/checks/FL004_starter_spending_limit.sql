-- id: FL004
-- severity: medium
-- title: TiDB Starter cluster without a monthly spending limit
-- fix: Set a spending limit on the cluster (TiDB Cloud console, the cluster's Overview > Spending limit); without one, usage past the free quota is billed unbounded.
SELECT 'tidb' AS vendor, s.fleetlake_account AS account, 'cluster' AS resource_type, s.cluster_id AS resource_id,
       coalesce(s.display_name, s.cluster_id) AS resource_name, 'spending limit: none' AS detail
FROM tidb_instance_data.serverless_clusters AS s
WHERE lower(s.service_plan) = 'starter' AND coalesce(s.spending_limit__monthly, 0) = 0
  AND upper(coalesce(s.state, '')) NOT IN ('DELETED', 'DELETING')
