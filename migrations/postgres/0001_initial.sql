-- dauth-proxy PostgreSQL store, version 1: every durable record of the sled store.
-- Applied by the gateway at start-up (src/store/postgres/migrate.rs); never edit once applied.

-- Users; a DAuth user is unique per (provider, username): the get-or-create's conflict target.
CREATE TABLE users (
    user_id    text PRIMARY KEY,
    kind       text NOT NULL,
    provider   text NOT NULL,
    username   text NOT NULL,
    created_at bigint NOT NULL
);
CREATE UNIQUE INDEX users_dauth_identity ON users (provider, username) WHERE kind = 'dauth';

-- Login names of password users: ('email', lower-case email) and ('username', name).
CREATE TABLE login_names (
    name_kind text NOT NULL,
    name      text NOT NULL,
    user_id   text NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (name_kind, name)
);
CREATE INDEX login_names_user ON login_names (user_id);

-- Password users' profiles; the lockout's counter and lock are columns of their own, so one
-- UPDATE counts an attempt atomically.
CREATE TABLE profiles (
    user_id       text PRIMARY KEY REFERENCES users (user_id),
    doc           jsonb NOT NULL,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  bigint
);

-- Confirmation codes (SHA-256 digests) -> user.
CREATE TABLE codes (
    digest  text PRIMARY KEY,
    user_id text NOT NULL
);

-- Refresh-token families: one row per login, rotated by one UPDATE.
CREATE TABLE refresh_families (
    family     text PRIMARY KEY,
    user_id    text NOT NULL,
    jti        text NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);

-- OBP accounts; access writes lock the account row (SELECT ... FOR UPDATE).
CREATE TABLE accounts (
    bank_id    text NOT NULL,
    account_id text NOT NULL,
    label      text NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (bank_id, account_id)
);

CREATE TABLE custom_views (
    bank_id    text NOT NULL,
    account_id text NOT NULL,
    view_id    text NOT NULL,
    doc        jsonb NOT NULL,
    PRIMARY KEY (bank_id, account_id, view_id),
    FOREIGN KEY (bank_id, account_id) REFERENCES accounts (bank_id, account_id)
);

CREATE TABLE access (
    bank_id    text NOT NULL,
    account_id text NOT NULL,
    user_id    text NOT NULL,
    view_id    text NOT NULL,
    PRIMARY KEY (bank_id, account_id, user_id, view_id),
    FOREIGN KEY (bank_id, account_id) REFERENCES accounts (bank_id, account_id)
);
CREATE INDEX access_user ON access (user_id);

-- Service clients stored with `admin client add`, and the users each manages.
CREATE TABLE clients (
    client_id text PRIMARY KEY,
    doc       jsonb NOT NULL
);

CREATE TABLE client_users (
    client_id      text NOT NULL,
    user_id        text NOT NULL,
    client_user_id text,
    created_at     text NOT NULL,
    doc            jsonb NOT NULL,
    PRIMARY KEY (client_id, user_id),
    UNIQUE (client_id, client_user_id)
);

-- Ids used once while they could still be accepted (client-assertion jtis, DAuth request ids):
-- INSERT ... ON CONFLICT DO UPDATE ... WHERE replay.expires_at <= now, pruned in batches.
CREATE TABLE replay (
    scope      text NOT NULL,
    id         text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (scope, id)
);
CREATE INDEX replay_expiry ON replay (expires_at);

-- The start-up probe.
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value bigint NOT NULL
);
