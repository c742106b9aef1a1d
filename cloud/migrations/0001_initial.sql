-- The cloud's schema. Portable SQL (SQLite now, PostgreSQL later): ids are TEXT
-- UUIDs, times INTEGER unix milliseconds, secrets only hashed or sealed.

-- Facts about the database itself (the check that the key file opens it).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);

-- Named counters that only grow (the change feed's sequence numbers).
CREATE TABLE sequences (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('changes', 0);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    -- Normalized (trimmed, lower case).
    email         TEXT NOT NULL UNIQUE,
    -- Argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- A signed-in device. Ended sessions stay, so that their spent refresh tokens
-- are still recognized as such.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    device_name  TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    -- When its latest refresh token expires.
    expires_at   INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX sessions_by_account ON sessions (account_id);

-- Tokens are kept as SHA-256 hashes (hex): a leaked database opens no session.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_by_session ON access_tokens (session_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    expires_at INTEGER NOT NULL,
    -- Set when the token is exchanged; presenting it again ends the session.
    spent_at   INTEGER
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE locks (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    time_zone       TEXT NOT NULL,
    -- tessera_model::LockCapabilities as JSON.
    capabilities    TEXT NOT NULL,
    -- Keyed digest of the registering request: replaying it is a no-op.
    creation_digest TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
);

-- Who may manage a lock: its owner (exactly one) and the members the owner added.
CREATE TABLE lock_members (
    lock_id    TEXT NOT NULL REFERENCES locks (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    role       TEXT NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (lock_id, account_id)
);
CREATE INDEX lock_members_by_account ON lock_members (account_id, lock_id);

-- The credential a lock reports events with; one per lock, hashed.
CREATE TABLE device_credentials (
    token_hash TEXT PRIMARY KEY NOT NULL,
    lock_id    TEXT NOT NULL UNIQUE REFERENCES locks (id),
    created_at INTEGER NOT NULL
);

CREATE TABLE codes (
    id              TEXT PRIMARY KEY NOT NULL,
    lock_id         TEXT NOT NULL REFERENCES locks (id),
    label           TEXT NOT NULL,
    -- AES-256-GCM, the code id as associated data.
    sealed_pin      BLOB NOT NULL,
    -- tessera_model::Schedule as JSON.
    schedule        TEXT NOT NULL,
    allow_widening  INTEGER NOT NULL,
    max_uses        INTEGER,
    status          TEXT NOT NULL,
    set_on_lock_at  INTEGER,
    -- First and last instants of access of the compiled schedule (NULL: unbounded),
    -- so admission reads only the codes that can be live at the same time.
    active_from     INTEGER,
    active_until    INTEGER,
    creation_digest TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
);
CREATE INDEX codes_live ON codes (lock_id, status, active_until);

-- Idempotency keys of mutations, per account: the keyed digest of the request
-- and the entity it made or changed.
CREATE TABLE idempotency_keys (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    idempotency_key TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);

CREATE TABLE lock_events (
    id          TEXT PRIMARY KEY NOT NULL,
    lock_id     TEXT NOT NULL REFERENCES locks (id),
    kind        TEXT NOT NULL,
    code_id     TEXT REFERENCES codes (id),
    at          INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX lock_events_by_time ON lock_events (lock_id, at, id);

-- The change feed: one row per changed entity, pointing at its current state.
-- A change deletes the entity's row and inserts one with the next sequence number,
-- so a phone that syncs from a cursor reads each changed entity once.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY NOT NULL,
    -- What changed, unique: 'lock:<id>', 'code:<id>', 'member:<lock>:<account>', ...
    entity     TEXT NOT NULL UNIQUE,
    -- lock, code, member, member_removed, event, lock_removed
    kind       TEXT NOT NULL,
    -- Set when every account with access to the lock sees the row.
    lock_id    TEXT,
    -- Set when only this account sees the row (it lost access to a lock).
    account_id TEXT,
    -- The id to load the current state by: lock, code, member account or event id.
    entity_id  TEXT NOT NULL
);
CREATE INDEX changes_by_lock ON changes (lock_id, seq);
CREATE INDEX changes_by_account ON changes (account_id, seq);
