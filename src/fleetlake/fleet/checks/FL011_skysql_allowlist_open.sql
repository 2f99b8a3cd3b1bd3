-- id: FL011
-- severity: high
-- title: SkySQL service allow-list open to every address (0.0.0.0/0)
-- fix: Replace the open entries of the service's allow-list with your clients' addresses (SkySQL portal, the service's Settings > Security access, or PUT /provisioning/v1/services/{id}/security/allowlist), or connect through a private link instead.
SELECT 'skysql' AS vendor, a.fleetlake_account AS account, 'service' AS resource_type, a.service_id AS resource_id,
       coalesce(max(s.name), a.service_id) AS resource_name,
       'allow-list entries: ' || string_agg(a.ip || coalesce(' (' || nullif(trim(a.comment), '') || ')', ''), ', ' ORDER BY a.ip) AS detail
FROM skysql_data.service_allowlists AS a
LEFT JOIN skysql_data.services AS s ON s.fleetlake_account = a.fleetlake_account AND s.id = a.service_id
WHERE trim(a.ip) IN ('0.0.0.0/0', '0.0.0.0', '::/0')
GROUP BY a.fleetlake_account, a.service_id
