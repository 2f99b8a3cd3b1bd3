-- id: FL006
-- severity: high
-- title: TiDB Cloud API key with the organization owner role
-- fix: Give the key the narrowest role it needs (Organization Settings > API Keys > Update Role); an owner key can delete every cluster and create keys.
SELECT 'tidb' AS vendor, k.fleetlake_account AS account, 'api_key' AS resource_type, k.name AS resource_id,
       k.display_name AS resource_name, 'role: ' || k.role AS detail
FROM tidb_instance_data.api_keys AS k
WHERE lower(k.role) IN ('org:owner', 'organization owner', 'owner')
