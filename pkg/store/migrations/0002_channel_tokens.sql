-- Keyed hashes (HMAC-SHA256) of the channel tokens each tenant uses, so a bot
-- token serves one tenant only. The tokens themselves are never stored.
CREATE TABLE channel_tokens (
    token_hash bytea PRIMARY KEY,
    tenant_id  text  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel    text  NOT NULL
);

CREATE INDEX channel_tokens_tenant ON channel_tokens (tenant_id);

-- What the drift check last found changed outside the manager; empty when
-- the tenant matches its row.
ALTER TABLE tenants ADD COLUMN drift text NOT NULL DEFAULT '';
