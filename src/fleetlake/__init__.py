"""fleetlake: load the control plane of your database clouds and data catalog into SQL, with dlt."""

__version__ = "0.1.0"
