-- The shared replay window ([replay] backend = "postgres"): each id is accepted once per scope
-- while it could still be accepted. `scope` is "<kind>:<name>" with ':' and '%' of the name
-- percent-escaped (dauth:<consumer_key>, assertion:<client_id>); expires_at is Unix seconds.
-- Idempotent: the store's migration runner applies it, and so does the window itself at start-up
-- on a database of its own (replay.url), where no runner runs.
CREATE TABLE IF NOT EXISTS dauth_replay (
    scope text NOT NULL,
    id text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (scope, id)
);
CREATE INDEX IF NOT EXISTS dauth_replay_expires_at ON dauth_replay (expires_at);
