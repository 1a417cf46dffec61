"""The SLA engine on Apache Spark: the same rules, computed per group of accounts across a cluster.

`job.py` runs on the driver: it reads the contract's tables as Parquet, gives every row
the number of the group it belongs to, and writes the obligations as Parquet partitioned
by account. `task.py` runs inside each task: it loads its group's rows and calls the
embedded engine's own functions, so there is one definition of the rules (docs/scale.md).
pyspark is an optional dependency (requirements-spark.txt); only `job.py` imports it.
"""
