-- The durable webhook outbox: one row per webhook of an ended conversation.
-- Times are Unix milliseconds. No secret value is ever written here: `headers` holds secret
-- parts as variable names, and `signing_key` is the name of the variable that signs.
CREATE TABLE webhook_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook          TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    -- JSON: [{"name": ..., "value": <template>, "sensitive": bool}]
    headers          TEXT    NOT NULL,
    body             BLOB    NOT NULL,
    signing_key      TEXT,
    -- 1 when sending needs a secret resolved: a process that holds none leaves the row alone.
    needs_secrets    INTEGER NOT NULL,
    timeout_ms       INTEGER NOT NULL,
    retries          INTEGER NOT NULL,
    -- pending | delivered | gave_up | parked
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- Who is sending it now, and until when: a crashed sender's row is taken again after this.
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    -- Why a parked row waits for a person: a kind (unresolved_secret, unreadable) and a detail.
    park_kind        TEXT,
    park_detail      TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
CREATE INDEX webhook_outbox_finished ON webhook_outbox (state, finished_at);
