-- One replay table. A PostgreSQL store kept its used ids (client-assertion jtis, DAuth request
-- ids) in `replay` (0001) and the `[replay]` window in `dauth_replay` (0002), with the same rule
-- written twice. Now both are `dauth_replay`, with its scope spelling: "<kind>:<name>", ':' and
-- '%' of the name percent-escaped (0001 wrote "j:<client_id>", "d:<consumer_key>"). Ids still
-- live move across, so an upgrade forgets no id a token could still be replayed with.
INSERT INTO dauth_replay (scope, id, expires_at)
SELECT CASE left(scope, 2)
           WHEN 'j:' THEN 'assertion:'
           WHEN 'd:' THEN 'dauth:'
           ELSE 'erc8128:'
       END || replace(replace(substr(scope, 3), '%', '%25'), ':', '%3A'),
       id, expires_at
FROM replay
ON CONFLICT (scope, id) DO NOTHING;
DROP TABLE replay;
