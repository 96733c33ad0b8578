"""Safe retries: an `Idempotency-Key` on every state-changing POST under /api/v1."""
