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
  {
    // Issue 16 (webhooks). The id carries the issue number so that branches adding migrations in
    // parallel do not clash. The secret is kept as is: signing (HMAC) needs it, as at every sender.
    id: '0016_webhook_endpoints',
    sql: `
      CREATE TABLE webhook_endpoints (
        id                          text PRIMARY KEY,
        owner                       text NOT NULL,
        url                         text NOT NULL,
        description                 text NULL,
        events                      jsonb NULL,
        enabled                     boolean NOT NULL,
        disabled_reason             text NULL,
        secret                      text NOT NULL,
        previous_secret             text NULL,
        previous_secret_expires_at  timestamptz NULL,
        created_at                  timestamptz NOT NULL,
        updated_at                  timestamptz NOT NULL
      );

      CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner, created_at, id);
    `,
  },
  {
    // Issue 16: the webhook outbox. A generation's change and the deliveries that report it are
    // written by one statement (sql/generations/update.ts), so none is lost between the store and
    // the sender. `reported_version` is the version whose change was last reported: the UPDATE sets
    // it from the row as it was, which tells the same statement whether this change is an event.
    id: '0016_webhook_deliveries',
    sql: `
      ALTER TABLE generations ADD COLUMN reported_version int NULL;

      CREATE TABLE webhook_deliveries (
        id                     text PRIMARY KEY,
        message_id             text NOT NULL,
        owner                  text NOT NULL,
        endpoint_id            text NULL,
        url                    text NULL,
        generation_id          text NOT NULL,
        generation_version     int NOT NULL,
        event_type             text NOT NULL,
        data                   jsonb NOT NULL,
        occurred_at            timestamptz NOT NULL,
        created_at             timestamptz NOT NULL,
        status                 text NOT NULL,
        attempts               int NOT NULL DEFAULT 0,
        next_attempt_at        timestamptz NULL,
        last_attempt_at        timestamptz NULL,
        last_status_code       int NULL,
        last_error             text NULL,
        last_response_excerpt  text NULL,
        last_duration_ms       int NULL,
        delivered_at           timestamptz NULL,
        lease_owner            text NULL,
        lease_until            timestamptz NULL,
        lease_epoch            int NOT NULL DEFAULT 0
      );

      -- One delivery per endpoint and event, whatever retries the writer makes.
      CREATE UNIQUE INDEX webhook_deliveries_endpoint_message
        ON webhook_deliveries (endpoint_id, message_id) WHERE endpoint_id IS NOT NULL;
      -- The sender's lease queue claims by due time among pending deliveries only.
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
      CREATE INDEX webhook_deliveries_generation ON webhook_deliveries (owner, generation_id, created_at);
      CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
    `,
  },
  {
    // Issue 16: since when an endpoint's attempts have failed without a success in between (null
    // while it answers 2xx), so that one failing for too long is disabled.
    id: '0016_webhook_endpoint_failing_since',
    sql: `ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz NULL;`,
  },
  {
    // Issue 16: per-generation webhooks. The URL and events ride on the generation, so the statement
    // that changes it can queue their delivery (sql/generations/update.ts); they are signed with the
    // owner's signing secret, one per owner, rotated like an endpoint's. A per-generation delivery has
    // no endpoint, so its uniqueness per event is by generation.
    id: '0016_webhook_per_generation',
    sql: `
      ALTER TABLE generations ADD COLUMN webhook_url text NULL;
      ALTER TABLE generations ADD COLUMN webhook_events jsonb NULL;

      CREATE TABLE webhook_signing_secrets (
        owner                       text PRIMARY KEY,
        secret                      text NOT NULL,
        previous_secret             text NULL,
        previous_secret_expires_at  timestamptz NULL,
        created_at                  timestamptz NOT NULL,
        updated_at                  timestamptz NOT NULL
      );

      CREATE UNIQUE INDEX webhook_deliveries_generation_message
        ON webhook_deliveries (generation_id, message_id) WHERE endpoint_id IS NULL;
    `,
  },
  {
    // Issue 13: learned generation times, one recency-weighted histogram per bucket (model, clip
    // length, resolution), shared by every instance. Bins are fixed (generations/time-distribution.ts).
    id: '0013_generation_timings',
    sql: `
      CREATE TABLE generation_timings (
        bucket      text PRIMARY KEY,
        weights     float8[] NOT NULL,
        samples     int NOT NULL,
        updated_at  timestamptz NOT NULL
      );
    `,
  },
];
