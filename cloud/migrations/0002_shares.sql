-- Share links: a sealed visitor pass per link. The cloud holds only the
-- ciphertext and a hash of the link's access key: it cannot read the pass, and a
-- leaked database opens no link. Portable SQL, as in 0001.
CREATE TABLE shares (
    -- The link's random id: 16 bytes as 22 base64url characters.
    id              TEXT PRIMARY KEY NOT NULL,
    code_id         TEXT NOT NULL REFERENCES codes (id),
    lock_id         TEXT NOT NULL REFERENCES locks (id),
    -- Nonce and AES-256-GCM ciphertext, base64url.
    sealed          TEXT NOT NULL,
    -- SHA-256 of the access key, base64url.
    access_key_hash TEXT NOT NULL,
    -- Never later than the code's last instant of access.
    expires_at      INTEGER NOT NULL,
    -- NULL: as often as wanted until it expires.
    max_views       INTEGER,
    views           INTEGER NOT NULL DEFAULT 0,
    revoked         INTEGER NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL REFERENCES accounts (id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX shares_by_code ON shares (code_id, created_at);
