import type { Database } from './database.ts'

/**
 * NOTIFY channel of changes to a user's access: `{"id": "<user id>",
 * "space": "<space>"}` when a membership is added, changed or removed
 * (space_members), `{"id": "<user id>"}` when a user is deleted,
 * `{"space": "<space>"}` when a space starts or stops deleting, and
 * `{"all": true}` after a TRUNCATE; `{"id": "<user id>", "sessions":
 * "revoked"}` when every session of the user was revoked (log out
 * everywhere: their sockets are closed).
 */
export const USER_ACCESS_CHANNEL = 'botsync_user_access'

/**
 * NOTIFY channel of changes to a space's stored bot (set, changed, removed):
 * `{"space": "<space>"}`, or `{"all": true}` after a TRUNCATE. Every instance
 * restarts or stops that space's bot (server/src/bots/bot-supervisor.ts).
 */
export const SPACE_BOTS_CHANNEL = 'botsync_space_bots'

export interface Migration {
  version: number
  name: string
  sql: string
}

/**
 * Versioned schema. Append new entries; never edit an applied one.
 * Each runs in its own transaction together with its bookkeeping row.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'documents and update log',
    sql: `
      -- The compacted state of each document: one Yjs update holding everything
      -- merged so far. Named versions (history, restore) get their own table
      -- keyed by the same name in a later migration.
      CREATE TABLE documents (
        name        text PRIMARY KEY,
        snapshot    bytea,
        compacted_at timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      -- Append-only log of updates received since the last compaction.
      CREATE TABLE document_updates (
        id         bigserial PRIMARY KEY,
        name       text NOT NULL,
        update     bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX document_updates_name_id ON document_updates (name, id);
    `,
  },
  {
    version: 2,
    name: 'users',
    sql: `
      CREATE TABLE users (
        id            bigserial PRIMARY KEY,
        email         text NOT NULL UNIQUE,
        name          text NOT NULL,
        password_hash text NOT NULL,
        role          text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        created_at    timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: 'quarantined updates',
    sql: `
      -- Log rows that would not integrate into their document (they decode but
      -- Yjs throws on them, or the integration check refuses them). Loading
      -- skips them and copies them here; compaction moves them here (deleting
      -- them from document_updates in its transaction). Kept for diagnosis:
      -- nothing reads them back into a document.
      CREATE TABLE quarantined_updates (
        original_id    bigint PRIMARY KEY,
        name           text NOT NULL,
        update         bytea NOT NULL,
        error          text NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX quarantined_updates_name ON quarantined_updates (name);
    `,
  },
  {
    version: 4,
    name: 'notify user access changes',
    sql: `
      -- Every instance LISTENs on botsync_user_access and re-checks the open
      -- connections of the user named in the payload. A trigger, so changes
      -- made by hand in psql count as much as the server's own.
      CREATE OR REPLACE FUNCTION botsync_notify_user_access() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('all', true)::text);
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('id', OLD.id::text, 'role', NULL)::text);
        ELSIF NEW.role IS DISTINCT FROM OLD.role THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('id', NEW.id::text, 'role', NEW.role)::text);
        END IF;
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS users_access_changed ON users;
      CREATE TRIGGER users_access_changed AFTER UPDATE OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION botsync_notify_user_access();
      DROP TRIGGER IF EXISTS users_truncated ON users;
      CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION botsync_notify_user_access();
    `,
  },
  {
    version: 5,
    name: 'spaces, members and invites',
    sql: `
      -- Spaces are created, not typed: a document of a space without a row
      -- here is refused (unknown-space). deleting_at: when the sweeper purges
      -- the space (NULL: not being deleted).
      CREATE TABLE spaces (
        id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
        name        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        deleting_at timestamptz NULL
      );
      -- Roles are per space.
      CREATE TABLE space_members (
        space      text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role       text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (space, user_id)
      );
      CREATE INDEX space_members_user ON space_members (user_id);
      ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
      -- One-time links (invites and password resets); only the token's sha256 is kept.
      CREATE TABLE invites (
        id         bigserial PRIMARY KEY,
        token_hash bytea NOT NULL UNIQUE,
        space      text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        email      text NOT NULL,
        role       text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        kind       text NOT NULL CHECK (kind IN ('invite', 'reset')),
        user_id    bigint NULL REFERENCES users(id) ON DELETE CASCADE,
        created_by bigint NULL REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at    timestamptz NULL
      );
      CREATE INDEX invites_space ON invites (space);

      -- Existing data: every space that has documents becomes a row, and
      -- every user a member of each with the global role they had.
      INSERT INTO spaces (id, name)
        SELECT DISTINCT split_part(name, '/', 1), split_part(name, '/', 1)
        FROM (SELECT name FROM documents UNION SELECT name FROM document_updates) AS named
        WHERE split_part(name, '/', 1) ~ '^[a-z0-9][a-z0-9_-]{0,62}$'
        ON CONFLICT DO NOTHING;
      INSERT INTO space_members (space, user_id, role) SELECT s.id, u.id, u.role FROM spaces s CROSS JOIN users u;

      -- users: only a deletion changes access now (roles moved to space_members).
      DROP TRIGGER IF EXISTS users_access_changed ON users;
      ALTER TABLE users DROP COLUMN role;
      CREATE OR REPLACE FUNCTION botsync_notify_user_access() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('all', true)::text);
        ELSE
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('id', OLD.id::text)::text);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER users_access_changed AFTER DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION botsync_notify_user_access();

      CREATE OR REPLACE FUNCTION botsync_notify_member_access() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('all', true)::text);
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('id', OLD.user_id::text, 'space', OLD.space)::text);
        ELSIF TG_OP = 'INSERT' OR NEW.role IS DISTINCT FROM OLD.role THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('id', NEW.user_id::text, 'space', NEW.space)::text);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER space_members_access_changed AFTER INSERT OR UPDATE OR DELETE ON space_members
        FOR EACH ROW EXECUTE FUNCTION botsync_notify_member_access();
      CREATE TRIGGER space_members_truncated AFTER TRUNCATE ON space_members
        FOR EACH STATEMENT EXECUTE FUNCTION botsync_notify_member_access();

      -- A space that starts or stops deleting: its connections turn read-only or writable.
      CREATE OR REPLACE FUNCTION botsync_notify_space_access() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.deleting_at IS DISTINCT FROM OLD.deleting_at THEN
          PERFORM pg_notify('${USER_ACCESS_CHANNEL}', json_build_object('space', NEW.id)::text);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER spaces_access_changed AFTER UPDATE ON spaces
        FOR EACH ROW EXECUTE FUNCTION botsync_notify_space_access();
    `,
  },
  {
    version: 6,
    name: 'refresh sessions',
    sql: `
      -- One row per refresh token ever issued (server/src/auth/refresh-sessions.ts):
      -- only its sha256 is stored. A login starts a family; each use rotates the
      -- token (the old row gets rotated_at, a new row joins the family), so a
      -- rotated token presented again is a stolen copy and revokes the family.
      CREATE TABLE sessions (
        id           bigserial PRIMARY KEY,
        user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family       text NOT NULL,
        token_hash   bytea NOT NULL UNIQUE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        rotated_at   timestamptz,
        revoked_at   timestamptz
      );
      CREATE INDEX sessions_family ON sessions (family);
      CREATE INDEX sessions_user ON sessions (user_id);
    `,
  },
  {
    version: 7,
    name: 'space bots',
    sql: `
      -- One Telegram bot per space, set by its owner in the admin. The token
      -- is sealed (AES-256-GCM, server/src/auth/secret-box.ts, SECRETS_KEY);
      -- bot_id and username are getMe's answer, shown instead of the token.
      CREATE TABLE IF NOT EXISTS space_bots (
        -- Deleting a space (the sweeper's purge) removes its bot, and the trigger below stops it.
        space            text PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,
        token_ciphertext bytea NOT NULL,
        bot_id           bigint NOT NULL,
        username         text NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      );
      -- One bot serves one space: two spaces polling one token would take each other's updates (409 Conflict).
      CREATE UNIQUE INDEX IF NOT EXISTS space_bots_bot_id ON space_bots (bot_id);
      CREATE OR REPLACE FUNCTION botsync_notify_space_bots() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('${SPACE_BOTS_CHANNEL}', json_build_object('all', true)::text);
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${SPACE_BOTS_CHANNEL}', json_build_object('space', OLD.space)::text);
        ELSE
          PERFORM pg_notify('${SPACE_BOTS_CHANNEL}', json_build_object('space', NEW.space)::text);
        END IF;
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS space_bots_changed ON space_bots;
      CREATE TRIGGER space_bots_changed AFTER INSERT OR UPDATE OR DELETE ON space_bots
        FOR EACH ROW EXECUTE FUNCTION botsync_notify_space_bots();
      DROP TRIGGER IF EXISTS space_bots_truncated ON space_bots;
      CREATE TRIGGER space_bots_truncated AFTER TRUNCATE ON space_bots
        FOR EACH STATEMENT EXECUTE FUNCTION botsync_notify_space_bots();
    `,
  },
  {
    version: 8,
    name: 'update authors',
    sql: `
      -- Who sent each update (persistence/src/authorship.ts): the admin's
      -- users.id, NULL for the server's own writes. No foreign key: a user may
      -- be deleted and the log keeps its rows. Nullable without a default, so
      -- adding it rewrites nothing, however long the log.
      ALTER TABLE document_updates ADD COLUMN author_id bigint NULL;
      -- What compaction folds keeps its attribution here: per author and
      -- minute, the number of updates and their first and last times. No key
      -- (author NULL is the server): compactions only add rows, readers sum.
      CREATE TABLE document_authorship (
        name      text NOT NULL,
        author_id bigint NULL,
        minute    timestamptz NOT NULL,
        updates   integer NOT NULL,
        first_at  timestamptz NOT NULL,
        last_at   timestamptz NOT NULL
      );
      CREATE INDEX document_authorship_name_first ON document_authorship (name, first_at);
    `,
  },
  {
    version: 9,
    name: 'tokens valid after',
    sql: `
      -- Log out everywhere and a password reset (RefreshSessions.revokeAll) set
      -- it: the user's access JWTs issued before it are refused at once
      -- (Authenticator.identifyAdmin), not only when they expire. NULL: never
      -- revoked. Nullable without a default: adding it rewrites nothing.
      ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz NULL;
    `,
  },
  {
    version: 10,
    name: 'versions',
    sql: `
      -- Releases and checkpoints of a space's content (server/src/versions/).
      -- number counts per space and kind; author_id like document_updates'
      -- (no foreign key: a deleted user's versions stay).
      CREATE TABLE versions (
        id         bigserial PRIMARY KEY,
        space      text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        kind       text NOT NULL CHECK (kind IN ('release', 'checkpoint')),
        number     integer NOT NULL,
        author_id  bigint NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        note       text NULL,
        UNIQUE (space, kind, number)
      );
      -- Per version, each content document: 'settings', 'buttons', 'scenarios'
      -- or 'scenario/<id>'; its state (version_states) and the sha256 of its
      -- Y.snapshot (what a checkpoint compares to tell whether it changed).
      CREATE TABLE version_documents (
        version_id    bigint NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        kind          text NOT NULL,
        state_hash    bytea NOT NULL,
        snapshot_hash bytea NOT NULL,
        PRIMARY KEY (version_id, kind)
      );
      -- Encoded states, stored once per space however many versions hold them
      -- (keyed by sha256 of the state).
      CREATE TABLE version_states (
        space text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        hash  bytea NOT NULL,
        state bytea NOT NULL,
        PRIMARY KEY (space, hash)
      );
    `,
  },
  {
    version: 11,
    name: 'media files',
    sql: `
      -- Uploaded media (server/src/media/): content-addressed per space, so the
      -- same bytes uploaded twice are stored once and answer the same id (the
      -- sha256, which documents reference). In PostgreSQL by default, so the
      -- embedded PGlite setup needs no file store. kind is what the bot sends
      -- it as (shared-docs MEDIA_KINDS); width/height/duration when the server
      -- could read them; uploaded_by like versions.author_id (no foreign key).
      CREATE TABLE media_files (
        space       text NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
        sha256      bytea NOT NULL CHECK (length(sha256) = 32),
        mime        text NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('photo', 'video', 'animation', 'audio', 'voice', 'document')),
        byte_size   bigint NOT NULL CHECK (byte_size > 0),
        width       integer NULL,
        height      integer NULL,
        duration    double precision NULL,
        name        text NOT NULL,
        uploaded_by bigint NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        bytes       bytea NOT NULL,
        PRIMARY KEY (space, sha256)
      );
    `,
  },
]

// Arbitrary constant: serialises migrators of several instances (and of
// parallel test files) sharing one database.
const MIGRATION_LOCK_KEY = 4_711_001

export async function migrate(db: Database, list: Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((r) => r.version))
    const done: number[] = []
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue
      // Every pending migration runs in the one lock-holding transaction, so a
      // failure leaves the schema exactly as it was before start-up.
      await tx.exec(migration.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      done.push(migration.version)
    }
    return done
  })
}
