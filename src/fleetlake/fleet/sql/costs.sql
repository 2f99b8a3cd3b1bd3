-- fleet.costs: FOCUS 1.2 rows from TiDB Cloud's daily bill details and monthly bills and SkySQL's monthly
-- bills and their line items. Amounts are US dollars (see fleetlake/fleet/model.py for the evidence).
-- Each month's rows sum exactly to the vendor's bill: what a bill holds beyond its itemized rows (credits,
-- discounts, commitments, support) is a row of its own, and whatever still differs is an Adjustment row
-- saying so; on the demo data there is none (tests/fleet/test_model.py).
WITH
tidb_org AS (
    SELECT fleetlake_account, max(org_id) AS org_id FROM tidb_instance_data.projects GROUP BY fleetlake_account
),
-- TiDB's details name projects and clusters; ids where exactly one matches the name
tidb_project_names AS (
    SELECT fleetlake_account, name, min(id) AS id FROM tidb_instance_data.projects
    GROUP BY fleetlake_account, name HAVING count(*) = 1
),
tidb_cluster_names AS (
    SELECT account, project_id, cluster_name, min(cluster_id) AS cluster_id, min(region) AS region
    FROM fleet.clusters WHERE vendor = 'tidb'
    GROUP BY account, project_id, cluster_name HAVING count(*) = 1
),
tidb_detail AS (
    SELECT
        d.*,
        CAST(strptime(d.billed_month || '-01', '%Y-%m-%d') AS TIMESTAMPTZ) AS period_start,
        p.id AS project_id,
        k.cluster_id,
        k.region
    FROM tidb_instance_data.bill_details AS d
    LEFT JOIN tidb_project_names AS p ON p.fleetlake_account = d.fleetlake_account AND p.name = d.project_name
    LEFT JOIN tidb_cluster_names AS k
        ON k.account = d.fleetlake_account AND k.project_id = p.id AND k.cluster_name = d.cluster_name
),
tidb_usage AS (
    SELECT
        fleet_money(d.total_cost) AS BilledCost,
        fleet_money(d.total_cost) AS EffectiveCost,
        fleet_money(d.running_total) AS ListCost,
        fleet_money(d.running_total) - fleet_money(d.discounts) AS ContractedCost,
        'USD' AS BillingCurrency,
        coalesce(o.org_id, d.fleetlake_account) AS BillingAccountId,
        d.fleetlake_account AS BillingAccountName,
        d.period_start AS BillingPeriodStart,
        d.period_start + INTERVAL 1 MONTH AS BillingPeriodEnd,
        CAST(d.billed_date AS TIMESTAMPTZ) AS ChargePeriodStart,
        CAST(d.billed_date AS TIMESTAMPTZ) + INTERVAL 1 DAY AS ChargePeriodEnd,
        'Usage' AS ChargeCategory,
        CAST(NULL AS VARCHAR) AS ChargeClass,
        d.service_path_name AS ChargeDescription,
        'PingCAP' AS InvoiceIssuerName,
        'PingCAP' AS ProviderName,
        'PingCAP' AS PublisherName,
        CAST(1 AS DECIMAL(38, 9)) AS PricingQuantity,
        'Day' AS PricingUnit,
        'Databases' AS ServiceCategory,
        coalesce(nullif(split_part(d.service_path_name, ' - ', 1), ''), 'TiDB Cloud') AS ServiceName,
        d.cluster_id AS ResourceId,
        d.cluster_name AS ResourceName,
        d.region AS RegionId,
        d.project_id AS SubAccountId,
        d.project_name AS SubAccountName,
        d.service_path_name AS SkuId,
        CAST(NULL AS JSON) AS Tags,
        'tidb' AS x_Vendor,
        d.fleetlake_account AS x_Account,
        'tidb_instance_data.bill_details' AS x_SourceTable,
        d.billed_month AS x_BillingMonth
    FROM tidb_detail AS d
    LEFT JOIN tidb_org AS o ON o.fleetlake_account = d.fleetlake_account
),
tidb_bill AS (
    SELECT b.*, CAST(strptime(b.billed_month || '-01', '%Y-%m-%d') AS TIMESTAMPTZ) AS period_start, o.org_id
    FROM tidb_instance_data.bills AS b
    LEFT JOIN tidb_org AS o ON o.fleetlake_account = b.fleetlake_account
),
tidb_other AS (
    SELECT
        fleet_money(x.total_cost) AS BilledCost, fleet_money(x.total_cost) AS EffectiveCost,
        fleet_money(x.running_total) AS ListCost, fleet_money(x.running_total) - fleet_money(x.discounts) AS ContractedCost,
        'USD', coalesce(b.org_id, b.fleetlake_account), b.fleetlake_account,
        b.period_start, b.period_start + INTERVAL 1 MONTH, b.period_start, b.period_start + INTERVAL 1 MONTH,
        'Purchase', CAST(NULL AS VARCHAR), x.charge_name, 'PingCAP', 'PingCAP', 'PingCAP',
        CAST(1 AS DECIMAL(38, 9)), 'Month', 'Other', coalesce(x.charge_name, 'Other charges'),
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        x.charge_name, CAST(NULL AS JSON), 'tidb', b.fleetlake_account,
        'tidb_instance_data.bills__summary_by_project__other_charges', b.billed_month
    FROM tidb_instance_data.bills__summary_by_project__other_charges AS x
    JOIN tidb_bill AS b ON b._dlt_id = x._dlt_parent_id
),
tidb_itemized AS (
    SELECT x_Account, x_BillingMonth, sum(BilledCost) AS billed, sum(ListCost) AS listed,
           sum(ListCost - ContractedCost) AS discounted
    FROM (SELECT * FROM tidb_usage UNION ALL SELECT * FROM tidb_other)
    GROUP BY x_Account, x_BillingMonth
),
tidb_bill_rows AS (
    -- credits and discounts the itemized rows do not carry; then what still differs from the bill's total
    SELECT
        b.*, kind.category, kind.description,
        CASE kind.category
            WHEN 'credit' THEN -(fleet_money(b.overview__credits) - coalesce((
                SELECT sum(fleet_money(d.credits)) FROM tidb_detail AS d
                WHERE d.fleetlake_account = b.fleetlake_account AND d.billed_month = b.billed_month), 0) - coalesce((
                SELECT sum(fleet_money(x.credits)) FROM tidb_instance_data.bills__summary_by_project__other_charges AS x
                WHERE x._dlt_parent_id = b._dlt_id), 0))
            WHEN 'discount' THEN -(fleet_money(b.overview__discounts) - coalesce(i.discounted, 0))
        END AS amount,
        i.billed AS itemized
    FROM tidb_bill AS b
    CROSS JOIN (VALUES ('credit', 'Credits applied to the bill'), ('discount', 'Discounts applied to the bill'))
        AS kind(category, description)
    LEFT JOIN tidb_itemized AS i ON i.x_Account = b.fleetlake_account AND i.x_BillingMonth = b.billed_month
),
tidb_residual AS (
    SELECT
        b.*, fleet_money(b.overview__total_cost) - coalesce(i.billed, 0) - coalesce((
            SELECT sum(r.amount) FROM tidb_bill_rows AS r
            WHERE r.fleetlake_account = b.fleetlake_account AND r.billed_month = b.billed_month), 0) AS amount
    FROM tidb_bill AS b
    LEFT JOIN tidb_itemized AS i ON i.x_Account = b.fleetlake_account AND i.x_BillingMonth = b.billed_month
),
tidb_credits AS (
    SELECT
        r.amount, r.amount, CAST(0 AS DECIMAL(38, 9)), CAST(0 AS DECIMAL(38, 9)),
        'USD', coalesce(r.org_id, r.fleetlake_account), r.fleetlake_account,
        r.period_start, r.period_start + INTERVAL 1 MONTH, r.period_start, r.period_start + INTERVAL 1 MONTH,
        'Credit', CAST(NULL AS VARCHAR), r.description, 'PingCAP', 'PingCAP', 'PingCAP',
        CAST(NULL AS DECIMAL(38, 9)), CAST(NULL AS VARCHAR), 'Databases', 'TiDB Cloud',
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR), CAST(NULL AS JSON), 'tidb', r.fleetlake_account, 'tidb_instance_data.bills', r.billed_month
    FROM tidb_bill_rows AS r WHERE r.amount <> 0
    UNION ALL
    SELECT
        r.amount, r.amount, r.amount, r.amount,
        'USD', coalesce(r.org_id, r.fleetlake_account), r.fleetlake_account,
        r.period_start, r.period_start + INTERVAL 1 MONTH, r.period_start, r.period_start + INTERVAL 1 MONTH,
        'Adjustment', CAST(NULL AS VARCHAR), 'Bill total not itemized by the daily details', 'PingCAP', 'PingCAP', 'PingCAP',
        CAST(NULL AS DECIMAL(38, 9)), CAST(NULL AS VARCHAR), 'Databases', 'TiDB Cloud',
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR), CAST(NULL AS JSON), 'tidb', r.fleetlake_account, 'tidb_instance_data.bills', r.billed_month
    FROM tidb_residual AS r WHERE r.amount <> 0
),
-- SkySQL: monthly bills; each line item (a service) holds compute and storage parts as JSON lists
sky_bill AS (
    SELECT b.*, CAST(strptime(coalesce(b.billing_month, b.period) || '-01', '%Y-%m-%d') AS TIMESTAMPTZ) AS period_start,
           coalesce(b.billing_month, b.period) AS month
    FROM skysql_data.bills AS b
),
sky_part AS (
    SELECT l.*, 'compute' AS part_kind, unnest(from_json(l.cost__compute, '["JSON"]')) AS part
    FROM skysql_data.bills__line_items AS l
    UNION ALL
    SELECT l.*, 'storage', unnest(from_json(l.cost__storage, '["JSON"]'))
    FROM skysql_data.bills__line_items AS l
),
sky_usage AS (
    SELECT
        fleet_money(json_extract_string(p.part, '$.total_cost')) AS BilledCost,
        fleet_money(json_extract_string(p.part, '$.total_cost')) AS EffectiveCost,
        fleet_money(json_extract_string(p.part, '$.total_cost')) AS ListCost,
        fleet_money(json_extract_string(p.part, '$.total_cost')) AS ContractedCost,
        coalesce(b.currency, 'USD'), coalesce(b.org_id, b.fleetlake_account), b.fleetlake_account,
        b.period_start, b.period_start + INTERVAL 1 MONTH, b.period_start, b.period_start + INTERVAL 1 MONTH,
        'Usage', CAST(NULL AS VARCHAR),
        json_extract_string(p.part, '$.name') || ' (' || coalesce(json_extract_string(p.part, '$.instance'), '?') || ')',
        'MariaDB', 'MariaDB', 'MariaDB',
        CAST(coalesce(CAST(json_extract_string(p.part, '$.total_hours') AS DOUBLE), 0)
             * coalesce(CAST(json_extract_string(p.part, '$.active_nodes') AS DOUBLE), 1) AS DECIMAL(38, 9)),
        'Hours', CASE p.part_kind WHEN 'storage' THEN 'Storage' ELSE 'Databases' END,
        'MariaDB Cloud ' || CASE p.part_kind WHEN 'storage' THEN 'storage' ELSE 'compute' END,
        p.service__service_id, p.service__name, fleet_region(p.service__region), v.project_id, pr.name,
        json_extract_string(p.part, '$.instance'),
        CASE WHEN v.tags__environment IS NOT NULL OR v.tags__team IS NOT NULL
             THEN CAST(json_object('environment', v.tags__environment, 'team', v.tags__team) AS JSON) END,
        'skysql', b.fleetlake_account, 'skysql_data.bills__line_items', b.month
    FROM sky_part AS p
    JOIN sky_bill AS b ON b._dlt_id = p._dlt_parent_id
    LEFT JOIN skysql_data.services AS v ON v.fleetlake_account = b.fleetlake_account AND v.id = p.service__service_id
    LEFT JOIN skysql_data.projects AS pr ON pr.fleetlake_account = v.fleetlake_account AND pr.id = v.project_id
),
sky_bill_parts AS (
    SELECT b.*, kind.category, kind.service, kind.description,
        CASE kind.name
            WHEN 'transfer' THEN fleet_money(b.data_transfer_cost)
            WHEN 'support' THEN fleet_money(b.support_cost)
            WHEN 'minimum' THEN fleet_money(b.min_compute_cost)
            WHEN 'discount' THEN -fleet_money(b.discount) - fleet_money(b.additional_compute_discount)
        END AS amount
    FROM sky_bill AS b
    CROSS JOIN (VALUES
        ('transfer', 'Usage', 'MariaDB Cloud data transfer', 'Data transfer'),
        ('support', 'Purchase', 'MariaDB Cloud support', 'Support plan'),
        ('minimum', 'Purchase', 'MariaDB Cloud compute commitment', 'Minimum compute commitment not consumed'),
        ('discount', 'Credit', 'MariaDB Cloud compute', 'Compute discount')
    ) AS kind(name, category, service, description)
),
sky_residual AS (
    SELECT b.*, fleet_money(b.total)
        - coalesce((SELECT sum(fleet_money(json_extract_string(p.part, '$.total_cost'))) FROM sky_part AS p
                    WHERE p._dlt_parent_id = b._dlt_id), 0)
        - coalesce((SELECT sum(r.amount) FROM sky_bill_parts AS r WHERE r._dlt_id = b._dlt_id), 0) AS amount
    FROM sky_bill AS b
),
sky_bill_rows AS (
    SELECT
        r.amount, r.amount, CASE WHEN r.category = 'Credit' THEN 0 ELSE r.amount END,
        CASE WHEN r.category = 'Credit' THEN 0 ELSE r.amount END,
        coalesce(r.currency, 'USD'), coalesce(r.org_id, r.fleetlake_account), r.fleetlake_account,
        r.period_start, r.period_start + INTERVAL 1 MONTH, r.period_start, r.period_start + INTERVAL 1 MONTH,
        r.category, CAST(NULL AS VARCHAR), r.description, 'MariaDB', 'MariaDB', 'MariaDB',
        CASE WHEN r.category = 'Credit' THEN NULL ELSE CAST(1 AS DECIMAL(38, 9)) END,
        CASE WHEN r.category = 'Credit' THEN NULL ELSE 'Month' END,
        CASE WHEN r.service LIKE '%transfer' THEN 'Networking' WHEN r.service LIKE '%support' THEN 'Other' ELSE 'Databases' END,
        r.service,
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR), CAST(NULL AS JSON), 'skysql', r.fleetlake_account, 'skysql_data.bills', r.month
    FROM sky_bill_parts AS r WHERE r.amount IS NOT NULL AND r.amount <> 0
    UNION ALL
    SELECT
        r.amount, r.amount, r.amount, r.amount,
        coalesce(r.currency, 'USD'), coalesce(r.org_id, r.fleetlake_account), r.fleetlake_account,
        r.period_start, r.period_start + INTERVAL 1 MONTH, r.period_start, r.period_start + INTERVAL 1 MONTH,
        'Adjustment', CAST(NULL AS VARCHAR), 'Bill total not itemized by its line items', 'MariaDB', 'MariaDB', 'MariaDB',
        CAST(NULL AS DECIMAL(38, 9)), CAST(NULL AS VARCHAR), 'Databases', 'MariaDB Cloud',
        CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR), CAST(NULL AS JSON), 'skysql', r.fleetlake_account, 'skysql_data.bills', r.month
    FROM sky_residual AS r WHERE r.amount <> 0
)
SELECT
    *,
    CASE ChargeCategory WHEN 'Usage' THEN 'Usage-Based' WHEN 'Purchase' THEN 'Recurring' ELSE 'One-Time' END
        AS ChargeFrequency
FROM (
    SELECT * FROM tidb_usage
    UNION ALL SELECT * FROM tidb_other
    UNION ALL SELECT * FROM tidb_credits
    UNION ALL SELECT * FROM sky_usage
    UNION ALL SELECT * FROM sky_bill_rows
)
ORDER BY x_Vendor, x_Account, ChargePeriodStart, ChargeCategory, ChargeDescription, ResourceName
