-- id: FL010
-- severity: low
-- title: Secoda table without a description
-- fix: Write the table's description in Secoda, or let Secoda AI draft one for its owner to review.
SELECT 'secoda' AS vendor, r.fleetlake_account AS account, 'table' AS resource_type, r.id AS resource_id,
       coalesce(r.title_full, r.title) AS resource_name, 'description: empty' AS detail
FROM secoda_data.resource_catalog AS r
WHERE lower(r.native_type) = 'table' AND NOT coalesce(r.archived, false) AND trim(coalesce(r.description, '')) = ''
