-- Issue 14: a reused Idempotency-Key with a different request must be refused (422), not answered
-- with the first case. The key remembers a hash of the request that first used it; keys stored
-- before this migration have none and keep replaying as before.
ALTER TABLE idempotency_keys ADD COLUMN request_hash TEXT;
