-- fleet.clusters: one row per database deployment, whichever API listed it.
-- TiDB Cloud lists a cluster up to three times: v1beta `clusters` (every kind), Dedicated's
-- `dedicated_clusters` and Starter/Essential's `serverless_clusters`, under the same id. A v1beta row is
-- the cluster; the newer APIs' rows enrich it, and stand alone only for a cluster v1beta did not list.
WITH
tidb_projects AS (
    SELECT fleetlake_account, id, name FROM tidb_instance_data.projects
),
dedicated AS (
    SELECT * FROM tidb_instance_data.dedicated_clusters
),
starter AS (
    SELECT * FROM tidb_instance_data.serverless_clusters
),
v1beta AS (
    SELECT
        'tidb' AS vendor,
        c.fleetlake_account AS account,
        c.project_id,
        p.name AS project_name,
        c.id AS cluster_id,
        c.name AS cluster_name,
        CASE
            WHEN upper(c.cluster_type) = 'DEDICATED' THEN 'dedicated'
            WHEN s.service_plan IS NOT NULL THEN lower(s.service_plan)
            ELSE 'starter'
        END AS kind,
        fleet_state(c.status__cluster_status) AS state,
        c.status__cluster_status AS vendor_state,
        fleet_provider(c.cloud_provider) AS cloud_provider,
        c.cloud_provider AS vendor_cloud_provider,
        fleet_region(c.region) AS region,
        c.region AS vendor_region,
        CASE WHEN upper(c.cluster_type) = 'DEDICATED' THEN
            coalesce(CAST(json_extract_string(c.config__components__tidb, '$.node_quantity') AS BIGINT), 0)
            + coalesce(CAST(json_extract_string(c.config__components__tikv, '$.node_quantity') AS BIGINT), 0)
            + coalesce(CAST(json_extract_string(c.config__components__tiflash, '$.node_quantity') AS BIGINT), 0)
        END AS node_count,
        CASE WHEN upper(c.cluster_type) = 'DEDICATED' THEN
            coalesce(json_extract_string(c.config__components__tidb, '$.node_size'), d.tidb_node_setting__node_spec_key)
        END AS node_size,
        CASE WHEN upper(c.cluster_type) = 'DEDICATED' THEN
            coalesce(
                CAST(json_extract_string(c.config__components__tikv, '$.storage_size_gib') AS BIGINT),
                d.tikv_node_setting__storage_size_gi
            )
        END AS storage_gib,
        coalesce(c.status__tidb_version, d.version, s.version) AS version,
        coalesce(c.create_timestamp, d.create_time, s.create_time) AS created_at,
        'tidb_instance_data.clusters'
            || CASE WHEN d.cluster_id IS NOT NULL THEN ',tidb_instance_data.dedicated_clusters' ELSE '' END
            || CASE WHEN s.cluster_id IS NOT NULL THEN ',tidb_instance_data.serverless_clusters' ELSE '' END
            AS source_tables
    FROM tidb_instance_data.clusters AS c
    LEFT JOIN tidb_projects AS p ON p.fleetlake_account = c.fleetlake_account AND p.id = c.project_id
    LEFT JOIN dedicated AS d ON d.fleetlake_account = c.fleetlake_account AND d.cluster_id = c.id
    LEFT JOIN starter AS s ON s.fleetlake_account = c.fleetlake_account AND s.cluster_id = c.id
),
dedicated_only AS (
    SELECT
        'tidb', d.fleetlake_account, d.labels__tidb_cloud_project, p.name, d.cluster_id,
        coalesce(d.display_name, d.cluster_id), 'dedicated',
        fleet_state(d.state), d.state,
        fleet_provider(d.cloud_provider), d.cloud_provider,
        fleet_region(d.region_id), d.region_id,
        coalesce(d.tikv_node_setting__node_count, 0) + coalesce(d.tiflash_node_setting__node_count, 0)
            + coalesce(CAST(json_extract_string(d.tidb_node_setting__tidb_node_groups, '$[0].node_count') AS BIGINT), 0),
        d.tidb_node_setting__node_spec_key,
        d.tikv_node_setting__storage_size_gi,
        d.version, d.create_time, 'tidb_instance_data.dedicated_clusters'
    FROM dedicated AS d
    LEFT JOIN tidb_projects AS p ON p.fleetlake_account = d.fleetlake_account AND p.id = d.labels__tidb_cloud_project
    WHERE NOT EXISTS (
        SELECT 1 FROM tidb_instance_data.clusters AS c WHERE c.fleetlake_account = d.fleetlake_account AND c.id = d.cluster_id
    )
),
starter_only AS (
    SELECT
        'tidb', s.fleetlake_account, s.labels__tidb_cloud_project, p.name, s.cluster_id,
        coalesce(s.display_name, s.cluster_id), coalesce(lower(s.service_plan), 'starter'),
        fleet_state(s.state), s.state,
        fleet_provider(coalesce(s.region__cloud_provider, s.region__provider)), coalesce(s.region__cloud_provider, s.region__provider),
        fleet_region(coalesce(s.region__region_id, s.region__name)), coalesce(s.region__region_id, s.region__name),
        CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), CAST(NULL AS BIGINT),
        s.version, s.create_time, 'tidb_instance_data.serverless_clusters'
    FROM starter AS s
    LEFT JOIN tidb_projects AS p ON p.fleetlake_account = s.fleetlake_account AND p.id = s.labels__tidb_cloud_project
    WHERE NOT EXISTS (
        SELECT 1 FROM tidb_instance_data.clusters AS c WHERE c.fleetlake_account = s.fleetlake_account AND c.id = s.cluster_id
    )
),
skysql AS (
    SELECT
        'skysql', v.fleetlake_account, v.project_id, p.name, v.id, v.name,
        lower(coalesce(v.topology, v.service_type)),
        fleet_state(v.status), v.status,
        fleet_provider(v.provider), v.provider,
        fleet_region(v.region), v.region,
        v.nodes, v.size, v.storage_volume__size,
        v.version, v.created_on, 'skysql_data.services'
    FROM skysql_data.services AS v
    LEFT JOIN skysql_data.projects AS p ON p.fleetlake_account = v.fleetlake_account AND p.id = v.project_id
)
SELECT * FROM v1beta
UNION ALL SELECT * FROM dedicated_only
UNION ALL SELECT * FROM starter_only
UNION ALL SELECT * FROM skysql
ORDER BY vendor, account, cluster_id
