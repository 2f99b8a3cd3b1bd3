-- id: FL009
-- severity: low
-- title: Secoda table without an owner
-- fix: Assign an owner to the table in Secoda (the resource's Owners field), so questions and changes reach someone.
SELECT 'secoda' AS vendor, r.fleetlake_account AS account, 'table' AS resource_type, r.id AS resource_id,
       coalesce(r.title_full, r.title) AS resource_name, 'owners: none' AS detail
FROM secoda_data.resource_catalog AS r
WHERE lower(r.native_type) = 'table' AND NOT coalesce(r.archived, false)
  AND NOT EXISTS (SELECT 1 FROM secoda_data.resource_catalog__owners AS o WHERE o._dlt_parent_id = r._dlt_id)
