"""Doctor-search storage: the index table and the backends (PostgreSQL, Elasticsearch)."""
