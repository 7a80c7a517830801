-- The user lifecycle: deactivation and admin-issued password resets. A
-- reset token is stored only as its SHA-256 (reset_hash) and works once.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
ALTER TABLE users ADD COLUMN reset_hash text;
ALTER TABLE users ADD COLUMN reset_expires_at timestamptz;
CREATE UNIQUE INDEX users_by_reset_hash ON users (reset_hash);

-- A user's sessions are listed and revoked together.
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
