/**
 * Schema migrations, applied in array order and recorded by id in `schema_migrations`.
 * Kept as TypeScript strings so a `tsc` build carries them without copying .sql files.
 * Never edit an applied migration: append a new one.
 */
export interface Migration {
  id: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    id: '0001_generations',
    sql: `
      CREATE TABLE generations (
        id              text PRIMARY KEY,
        owner           text NOT NULL,
        model           text NOT NULL,
        input           jsonb NOT NULL,
        input_hash      text NOT NULL,
        idempotency_key text NULL,
        status          text NOT NULL,
        upstream_id     text NULL,
        upstream_status text NULL,
        video           jsonb NULL,
        error           jsonb NULL,
        usage           jsonb NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        completed_at    timestamptz NULL,
        deadline_at     timestamptz NOT NULL,
        version         int NOT NULL,
        transitions     jsonb NOT NULL DEFAULT '[]'::jsonb,
        next_poll_at    timestamptz NULL,
        poll_count      int NOT NULL DEFAULT 0,
        poll_failures   int NOT NULL DEFAULT 0,
        lease_owner     text NULL,
        lease_until     timestamptz NULL
      );

      CREATE UNIQUE INDEX generations_owner_idempotency_key
        ON generations (owner, idempotency_key)
        WHERE idempotency_key IS NOT NULL;

      -- Keyset paging of an owner's list, newest first.
      CREATE INDEX generations_owner_created
        ON generations (owner, created_at DESC, id DESC);

      -- The poller only ever looks for in-flight rows by due time; terminal rows stay out of the index.
      CREATE INDEX generations_due
        ON generations (next_poll_at)
        WHERE status IN ('QUEUED', 'GENERATING');
    `,
  },
  {
    id: '0002_api_keys',
    sql: `
      CREATE TABLE api_keys (
        id         text PRIMARY KEY,
        owner      text NOT NULL,
        hash       text NOT NULL UNIQUE,
        prefix     text NOT NULL,
        label      text NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz NULL
      );

      CREATE INDEX api_keys_prefix ON api_keys (prefix);
    `,
  },
  {
    // A fencing token: every claim bumps it, so a poller whose lease was taken over (even by its own
    // instance) can tell that its claim is no longer the current one.
    id: '0003_lease_epoch',
    sql: `ALTER TABLE generations ADD COLUMN lease_epoch int NOT NULL DEFAULT 0;`,
  },
  {
    // Issue 15: the copy of each finished video into the media store, a durable job under a lease
    // (sql/media-copies/queue.ts). The trigger enqueues it in the same statement that records the
    // completion (the poller marks the video's copy PENDING when a media store is configured), so
    // no crash between the two can lose a copy. Deleting the generation deletes its job.
    id: '0015_media_copies',
    sql: `
      CREATE TABLE media_copies (
        generation_id  text PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,
        owner          text NOT NULL,
        source_url     text NOT NULL,
        state          text NOT NULL,
        attempts       int NOT NULL DEFAULT 0,
        last_error     text NULL,
        created_at     timestamptz NOT NULL,
        due_at         timestamptz NULL,
        lease_owner    text NULL,
        lease_until    timestamptz NULL,
        lease_epoch    int NOT NULL DEFAULT 0
      );

      CREATE INDEX media_copies_due ON media_copies (due_at) WHERE state = 'PENDING';

      CREATE FUNCTION enqueue_media_copy() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO media_copies (generation_id, owner, source_url, state, created_at, due_at)
        VALUES (NEW.id, NEW.owner, NEW.video->>'url', 'PENDING', NEW.updated_at, NEW.updated_at)
        ON CONFLICT (generation_id) DO NOTHING;
        RETURN NULL;
      END
      $$;

      CREATE TRIGGER generations_enqueue_media_copy
        AFTER INSERT OR UPDATE OF video ON generations
        FOR EACH ROW
        WHEN (NEW.video->'copy'->>'state' = 'PENDING' AND NEW.video->>'url' IS NOT NULL)
        EXECUTE FUNCTION enqueue_media_copy();
    `,
  },
];
