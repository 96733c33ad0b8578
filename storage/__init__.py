"""Storage: asyncpg pool, SQL migrations, embedded PostgreSQL, queries per domain."""
