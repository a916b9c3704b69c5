"""Register data: table schemas, dataset directories (Parquet + manifest), ingest and pseudonymisation."""
