-- id: FL013
-- severity: low
-- title: Private endpoint connection that is not active
-- fix: Accept or finish the connection in your cloud account (the endpoint in the detail), or delete it in TiDB Cloud (Networking > Private Endpoint) if nobody uses it.
SELECT 'tidb' AS vendor, p.fleetlake_account AS account, 'private_endpoint' AS resource_type,
       p.private_endpoint_connection_id AS resource_id,
       coalesce(p.cluster_display_name, p.cluster_id) AS resource_name,
       'endpoint ' || coalesce(p.endpoint_id, p.private_endpoint_connection_id) || ', state: '
           || coalesce(p.endpoint_state, 'unknown') || coalesce('; ' || nullif(trim(p.message), ''), '') AS detail
FROM tidb_instance_data.dedicated_private_endpoint_connections AS p
WHERE upper(coalesce(p.endpoint_state, '')) <> 'ACTIVE'
