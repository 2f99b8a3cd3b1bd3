-- fleet.audit_events: TiDB Cloud's console audit log and Secoda's audit log as one table. SkySQL's API
-- (its DPS file and reference pages) has no audit log to load.
WITH
tidb AS (
    SELECT
        a.end_time AS event_time,
        'tidb' AS vendor,
        a.fleetlake_account AS account,
        a.operation_id AS actor_id,
        a.operation_email AS actor_name,
        CASE upper(a.operation_type)
            WHEN 'USER' THEN 'user' WHEN 'API' THEN 'api_key' WHEN 'APIKEY' THEN 'api_key' WHEN 'SYSTEM' THEN 'system'
            ELSE 'other'
        END AS actor_kind,
        CASE
            WHEN regexp_matches(a.event_type, '^(Create|Invite|Restore|Add|Import)') THEN 'create'
            WHEN regexp_matches(a.event_type, '^(Update|Pause|Resume|Modify|Scale|Set|Change|Edit|Upgrade|Enable|Disable)') THEN 'update'
            WHEN regexp_matches(a.event_type, '^(Delete|Remove|Revoke|Drop)') THEN 'delete'
            WHEN regexp_matches(a.event_type, '^(Login|Logout|SignIn|SignOut)') THEN 'login'
            WHEN regexp_matches(a.event_type, '^(Download|Get|List|View|Export|Describe)') THEN 'read'
            ELSE 'other'
        END AS action,
        a.event_type AS vendor_event,
        nullif(lower(regexp_replace(
            regexp_replace(a.event_type, '^(Create|Invite|Restore|Add|Import|Update|Pause|Resume|Modify|Scale|Set|Change|Edit|Upgrade|Enable|Disable|Delete|Remove|Revoke|Drop|Login|Logout|SignIn|SignOut|Download|Get|List|View|Export|Describe)', ''),
            '([a-z])([A-Z])', '\1_\2', 'g')), '') AS resource_type,
        CASE WHEN a.event_type LIKE '%Cluster' THEN a.cluster_id WHEN a.event_type LIKE '%Project' THEN a.project_id END AS resource_id,
        CASE WHEN a.event_type LIKE '%Cluster' THEN a.cluster_name WHEN a.event_type LIKE '%Project' THEN a.project_name END AS resource_name,
        lower(a.result) AS outcome,
        CAST(CASE WHEN json_valid(a.details) THEN a.details ELSE to_json(a.details) END AS JSON) AS details,
        a.id AS vendor_event_id,
        'tidb_instance_data.audit_logs' AS source_table
    FROM tidb_instance_data.audit_logs AS a
),
secoda_names AS (
    SELECT fleetlake_account, id, min(title) AS title FROM (
        SELECT fleetlake_account, id, title FROM secoda_data.resource_catalog
        UNION ALL SELECT fleetlake_account, id, title FROM secoda_data.document
        UNION ALL SELECT fleetlake_account, id, title FROM secoda_data.collection
    ) GROUP BY fleetlake_account, id
),
secoda AS (
    SELECT
        s.created_at, 'secoda', s.fleetlake_account, s.performer__id, coalesce(s.performer__name, s.performer__email),
        -- the documented audit log says who acted (performer_type USER, API, ...); the older one only names them
        CASE
            WHEN upper(s.performer_type) = 'USER' THEN 'user'
            WHEN upper(s.performer_type) IN ('API', 'API_KEY', 'TOKEN') THEN 'api_key'
            WHEN s.performer_type IS NOT NULL THEN 'system'
            WHEN s.performer__id IS NULL THEN 'system'
            ELSE 'user'
        END,
        CASE
            WHEN s.event LIKE '%.viewed' THEN 'read'
            WHEN s.event LIKE '%.created' OR s.event LIKE '%.answered' THEN 'create'
            WHEN s.event LIKE '%.deleted' OR s.event LIKE '%.removed' THEN 'delete'
            WHEN s.event LIKE '%.updated' OR s.event LIKE '%.changed' OR s.event LIKE '%.added'
                 OR s.event LIKE '%.published' THEN 'update'
            WHEN s.event LIKE '%login%' OR s.event LIKE '%logout%' THEN 'login'
            ELSE 'other'
        END,
        s.event, s.resource_type, s.resource_id, n.title,
        'success',
        CAST(json_object('event', s.event, 'resource_type', s.resource_type) AS JSON),
        s.id, 'secoda_data.audit_log'
    FROM secoda_data.audit_log AS s
    LEFT JOIN secoda_names AS n ON n.fleetlake_account = s.fleetlake_account AND n.id = s.resource_id
)
SELECT *, action IN ('read', 'login') AS read_only FROM (
    SELECT * FROM tidb UNION ALL SELECT * FROM secoda
)
ORDER BY event_time, vendor, account, vendor_event_id
