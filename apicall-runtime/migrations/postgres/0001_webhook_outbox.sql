-- The durable webhook outbox, shared by the agent processes of a fleet: one row per webhook of
-- an ended conversation. Times are Unix milliseconds from the writing or sending process's
-- clock. No secret value is ever written here: `headers` holds secret parts as variable names,
-- and `signing_key` is the name of the variable that signs.
CREATE TABLE webhook_outbox (
    id               BIGSERIAL PRIMARY KEY,
    webhook          TEXT     NOT NULL,
    idempotency_key  TEXT     NOT NULL,
    url              TEXT     NOT NULL,
    -- JSON: [{"name": ..., "value": <template>, "sensitive": bool}]
    headers          TEXT     NOT NULL,
    body             BYTEA    NOT NULL,
    signing_key      TEXT,
    -- True when sending needs a secret resolved: a process that holds none leaves the row alone.
    needs_secrets    BOOLEAN  NOT NULL,
    timeout_ms       BIGINT   NOT NULL,
    retries          INTEGER  NOT NULL,
    -- pending | delivered | gave_up | parked
    state            TEXT     NOT NULL,
    attempts         INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT   NOT NULL,
    -- Who is sending it now, and until when: a crashed sender's row is taken again after this.
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_status      INTEGER,
    last_error       TEXT,
    -- Why a parked row waits for a person: a kind (unresolved_secret, unreadable) and a detail.
    park_kind        TEXT,
    park_detail      TEXT,
    created_at       BIGINT   NOT NULL,
    finished_at      BIGINT
);

-- Claims read pending rows in due order; only pending rows are in this index.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_outbox_finished ON webhook_outbox (state, finished_at);
