-- One vocabulary for what every vendor spells its own way. DuckDB macros, used by the model's queries.

-- a deployment's state: running, paused, creating, modifying, deleting, failed, other; from the enums of
-- TiDB's v1beta (`cluster_status`), Dedicated and Starter/Essential (`state`) files and SkySQL's (`status`)
CREATE OR REPLACE MACRO fleet_state(vendor_state) AS (
    CASE
        WHEN upper(vendor_state) IN ('AVAILABLE', 'ACTIVE', 'READY', 'RUNNING', 'HEALTHY', 'WARNING') THEN 'running'
        WHEN upper(vendor_state) IN ('PAUSED', 'INACTIVE', 'STOPPED', 'SUSPENDED') THEN 'paused'
        WHEN upper(vendor_state) IN ('CREATING', 'PENDING_CREATE', 'PROVISIONING', 'RESTORING') THEN 'creating'
        WHEN upper(vendor_state) IN (
            'MODIFYING', 'RESUMING', 'PAUSING', 'UPGRADING', 'IMPORTING', 'MAINTENANCE', 'MAINTAINING', 'SCALING',
            'EDITING', 'PENDING', 'PENDING_MODIFYING', 'PENDING_UPGRADE', 'PENDING_START', 'PENDING_STOP',
            'PENDING_SCALE'
        ) THEN 'modifying'
        WHEN upper(vendor_state) IN ('DELETING', 'DELETED', 'PENDING_DELETE', 'DELETE_PENDING', 'RETIRED') THEN 'deleting'
        WHEN upper(vendor_state) IN ('FAILED', 'UNAVAILABLE', 'ERROR', 'FAILURE', 'UNHEALTHY') THEN 'failed'
        ELSE 'other'
    END
);

-- a cloud provider: aws, gcp, azure, alibaba, or the vendor's word in lower case
CREATE OR REPLACE MACRO fleet_provider(vendor_provider) AS (
    CASE
        WHEN lower(vendor_provider) IN ('aws', 'amazon', 'amazon web services') THEN 'aws'
        WHEN lower(vendor_provider) IN ('gcp', 'google', 'google cloud') THEN 'gcp'
        WHEN lower(vendor_provider) IN ('azure', 'microsoft azure') THEN 'azure'
        WHEN lower(vendor_provider) IN ('alicloud', 'alibaba', 'alibaba_cloud', 'alibaba cloud') THEN 'alibaba'
        ELSE lower(vendor_provider)
    END
);

-- a region as its cloud names it: `us-west-2` for TiDB's `aws-us-west-2` and `regions/aws-us-west-2`
CREATE OR REPLACE MACRO fleet_region(vendor_region) AS (
    regexp_replace(
        regexp_replace(lower(vendor_region), '^regions/', ''), '^(aws|gcp|azure|alicloud|alibaba)-', ''
    )
);

-- an amount of money as the vendors' bills give it (dollars with cents), exact from here on
CREATE OR REPLACE MACRO fleet_money(amount) AS (CAST(round(CAST(amount AS DOUBLE), 6) AS DECIMAL(38, 9)));

-- a JSON value as loaded: some destinations hand a JSON column back as a JSON string holding the JSON
-- text (dlt's sqlalchemy destination on MariaDB stores it encoded twice); unwrapped to the value itself
CREATE OR REPLACE MACRO fleet_json(value) AS (
    CASE
        WHEN json_type(CAST(value AS JSON)) = 'VARCHAR' AND json_valid(json_extract_string(CAST(value AS JSON), '$'))
            THEN CAST(json_extract_string(CAST(value AS JSON), '$') AS JSON)
        ELSE CAST(value AS JSON)
    END
);
