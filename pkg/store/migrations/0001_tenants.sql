-- Tenant metadata. Secrets (provider keys, bot tokens) are never stored here:
-- they live only in the tenant's config Secret and Helm release in the cluster.
CREATE TABLE tenants (
    id               text        PRIMARY KEY,
    display_name     text        NOT NULL,
    namespace        text        NOT NULL UNIQUE,
    status           text        NOT NULL
        CHECK (status IN ('provisioning', 'active', 'updating', 'failed', 'deleting')),
    release_name     text        NOT NULL,
    release_revision integer     NOT NULL DEFAULT 0,
    chart_version    text        NOT NULL DEFAULT '',
    resources        jsonb       NOT NULL DEFAULT '{}',
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tenants_status ON tenants (status);
