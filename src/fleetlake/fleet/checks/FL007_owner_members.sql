-- id: FL007
-- severity: low
-- title: Organization member with the owner role
-- fix: Keep owners to the few who need it; give the others a narrower role (TiDB Cloud: Organization Settings > Users; SkySQL: the organization's user settings).
SELECT 'tidb' AS vendor, m.fleetlake_account AS account, 'member' AS resource_type, m.user_id AS resource_id,
       m.email AS resource_name, 'role: ' || m.org_role__rbac_role AS detail
FROM tidb_instance_data.members AS m
WHERE lower(m.org_role__rbac_role) IN ('org:owner', 'owner') AND coalesce(lower(m.status), 'active') = 'active'
UNION ALL
SELECT 'skysql', u.fleetlake_account, 'member', u.id, u.email, 'current owner of ' || coalesce(u.org__name, u.org_id)
FROM skysql_data.organization_users AS u
WHERE u.id = u.org__current_owner AND NOT coalesce(u.is_deleted, false)
