"""The fleet model: the `fleet` dataset every run's raw tables are rebuilt into, across vendors.

`fleet.clusters` (the deployments), `fleet.costs` (FOCUS 1.2), `fleet.audit_events`, and the clusters'
history (`fleet.cluster_history`, dlt's SCD2) with its changes (`fleet.cluster_changes`). What it reads and
writes is declared in `fleetlake.fleet.model`; `fleetlake.fleet.build` builds it.
"""
