-- id: FL005
-- severity: medium
-- title: Paused cluster still billed
-- fix: A paused cluster still pays for its storage and backups: delete it if it is not coming back, or take a backup and delete it.
WITH last_day AS (
    SELECT x_Vendor, x_Account, max(ChargePeriodStart) AS day FROM fleet.costs WHERE ChargeCategory = 'Usage' GROUP BY ALL
)
SELECT c.vendor, c.account, 'cluster' AS resource_type, c.cluster_id AS resource_id, c.cluster_name AS resource_name,
       'billed ' || CAST(sum(f.BilledCost) AS DECIMAL(18, 2)) || ' ' || min(f.BillingCurrency) || ' on '
           || CAST(CAST(min(l.day) AS DATE) AS VARCHAR) || ' while paused' AS detail
FROM fleet.clusters AS c
JOIN last_day AS l ON l.x_Vendor = c.vendor AND l.x_Account = c.account
JOIN fleet.costs AS f
    ON f.x_Vendor = c.vendor AND f.x_Account = c.account AND f.ResourceId = c.cluster_id
   AND f.ChargePeriodStart = l.day AND f.ChargeCategory = 'Usage'
WHERE c.state = 'paused'
GROUP BY ALL
HAVING sum(f.BilledCost) > 0
