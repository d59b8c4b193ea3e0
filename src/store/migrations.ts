/**
 * Schema migrations, applied in array order and recorded by id in `schema_migrations`.
 * Kept as TypeScript strings so a `tsc` build carries them without copying .sql files.
 * Never edit an applied migration: append a new one.
 */
export interface Migration {
  id: string;
  sql: string;
}

/**
 * The roll-ups (0014_status_counts, 0014_usage_days, 0014_usage_totals) computed from the rows at hand, as their migrations
 * first fill them; exported for fills that load rows with the triggers off and count once at the end
 * (bench/history-fill.ts). The text is the migrations' own: changing it would change applied migrations.
 */
export const STATUS_COUNTS_FROM_ROWS = `INSERT INTO generation_status_counts (status, n) SELECT status, count(*) FROM generations GROUP BY status;`;
export const USAGE_DAYS_FROM_ROWS = `INSERT INTO generation_usage_days
        SELECT owner, generation_usage_day(created_at), status, model, duration, count(*),
               coalesce(sum(credits), 0), count(credits), coalesce(sum(usd), 0), count(usd)
          FROM (SELECT owner, created_at, status, model, generation_usage_duration(input) AS duration,
                       generation_usage_number(usage->'credits') AS credits, generation_usage_number(usage->'usd') AS usd
                  FROM generations
                UNION ALL
                SELECT owner, created_at, status, model, duration_seconds, credits::numeric, usd::numeric
                  FROM deleted_usage) AS used
         GROUP BY 1, 2, 3, 4, 5;`;
/** The all-time roll-up (0014_usage_totals) from the rows at hand, as USAGE_DAYS_FROM_ROWS is for the days. */
export const USAGE_TOTALS_FROM_ROWS = `INSERT INTO generation_usage_totals
        SELECT owner, status, model, duration, count(*),
               coalesce(sum(credits), 0), count(credits), coalesce(sum(usd), 0), count(usd)
          FROM (SELECT owner, status, model, generation_usage_duration(input) AS duration,
                       generation_usage_number(usage->'credits') AS credits, generation_usage_number(usage->'usd') AS usd
                  FROM generations
                UNION ALL
                SELECT owner, status, model, duration_seconds, credits::numeric, usd::numeric
                  FROM deleted_usage) AS used
         GROUP BY 1, 2, 3, 4;`;

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
    // Issue 15: retention and deletion. `deleted_usage` keeps what a deleted generation was paid
    // for (one row each, written by the statement that deletes it: sql/generations/delete.ts), and
    // usage sums it beside the generations left, so deleting never lowers usage. The index finds the
    // stored copies old enough for the retention sweep (sql/media-copies/retention.ts).
    id: '0015_media_retention_deleted_usage',
    sql: `
      CREATE TABLE deleted_usage (
        generation_id     text PRIMARY KEY,
        owner             text NOT NULL,
        model             text NOT NULL,
        status            text NOT NULL,
        duration_seconds  int NULL,
        credits           float8 NULL,
        usd               float8 NULL,
        created_at        timestamptz NOT NULL,
        deleted_at        timestamptz NOT NULL
      );
      CREATE INDEX deleted_usage_owner ON deleted_usage (owner, created_at);

      CREATE INDEX media_copies_stored ON media_copies (created_at) WHERE state = 'STORED';
    `,
  },
  {
    // Issue 13: the poller's look at its next due time reads the leased in-flight rows (few) by this
    // index instead of passing over every in-flight row; the unleased ones come from generations_due.
    id: '0013_poll_leases',
    sql: `
      CREATE INDEX generations_leased
        ON generations (lease_until)
        WHERE status IN ('QUEUED', 'GENERATING') AND lease_until IS NOT NULL;
    `,
  },
  {
    // Issue 14: reads that grow with an owner's history. A filtered list walks one of the first two in
    // order per filter value (see listGenerationKeys), so a filter with few matches reads only those;
    // the owner-wide catch-up after a pub/sub gap reads the newest changes by the third. The first one
    // also answers countByStatus and countInFlight from the index alone.
    // On PostgreSQL, CREATE INDEX blocks writes to the table while it runs (seconds per million rows):
    // migrations run in one transaction, where CONCURRENTLY is not allowed.
    id: '0014_history_indexes',
    sql: `
      CREATE INDEX IF NOT EXISTS generations_owner_status_created
        ON generations (owner, status, created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS generations_owner_model_created
        ON generations (owner, model, created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS generations_owner_updated
        ON generations (owner, updated_at);
    `,
  },
  {
    // Issue 14: /metrics reads the per-status counts on every scrape; counting the table grows with
    // history, so triggers keep the counts as rows change. One row per status: concurrent writers of
    // the same status queue on its row for the rest of their statement (a single-row update each).
    id: '0014_status_counts',
    sql: `
      CREATE TABLE generation_status_counts (
        status text PRIMARY KEY,
        n      bigint NOT NULL
      );
      ${STATUS_COUNTS_FROM_ROWS}

      CREATE FUNCTION generation_status_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          DELETE FROM generation_status_counts;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          UPDATE generation_status_counts SET n = n - 1 WHERE status = OLD.status;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO generation_status_counts AS c (status, n) VALUES (NEW.status, 1)
            ON CONFLICT (status) DO UPDATE SET n = c.n + 1;
        END IF;
        RETURN NULL;
      END $$;

      CREATE TRIGGER generations_counted_rows AFTER INSERT OR DELETE ON generations
        FOR EACH ROW EXECUTE FUNCTION generation_status_counted();
      CREATE TRIGGER generations_counted_status AFTER UPDATE OF status ON generations
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION generation_status_counted();
      CREATE TRIGGER generations_counted_truncate AFTER TRUNCATE ON generations
        FOR EACH STATEMENT EXECUTE FUNCTION generation_status_counted();
    `,
  },
  {
    // Issue 14: `usage` summed an owner's whole history on every call. Triggers keep per-day sums in the
    // same write (the day in UTC of created_at, per status, model and requested duration), so a report
    // reads one row per day and group, plus the generations of the day `since` falls in (usageGroups).
    // Sums are numeric: a change subtracts the old contribution, and float8 would drift. Only status and
    // usage ever change on a stored generation; the other grouping columns are written once.
    // The value functions ignore what is not a JSON number rather than fail the write that stores it.
    id: '0014_usage_days',
    sql: `
      CREATE FUNCTION generation_usage_number(v jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN v::text::numeric END
      $$;
      CREATE FUNCTION generation_usage_duration(input jsonb) RETURNS int LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN jsonb_typeof(input->'durationSeconds') = 'number'
                    THEN round((input->>'durationSeconds')::numeric)::int END
      $$;
      CREATE FUNCTION generation_usage_day(created_at timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS $$
        SELECT (created_at AT TIME ZONE 'UTC')::date
      $$;

      CREATE TABLE generation_usage_days (
        owner     text NOT NULL,
        day       date NOT NULL,
        status    text NOT NULL,
        model     text NOT NULL,
        duration  int NULL,
        n         bigint NOT NULL,
        credits   numeric NOT NULL,
        -- How many of the n reported credits (usd): a sum over none is null, not 0.
        credits_n bigint NOT NULL,
        usd       numeric NOT NULL,
        usd_n     bigint NOT NULL,
        UNIQUE NULLS NOT DISTINCT (owner, day, status, model, duration)
      );
      ${USAGE_DAYS_FROM_ROWS}

      -- One generation's contribution added to its group's day, the row created with the first.
      CREATE FUNCTION generation_usage_add(for_owner text, for_day date, for_status text, for_model text, for_duration int,
                                           given_credits numeric, given_usd numeric) RETURNS void LANGUAGE sql AS $$
        INSERT INTO generation_usage_days AS u (owner, day, status, model, duration, n, credits, credits_n, usd, usd_n)
          VALUES (for_owner, for_day, for_status, for_model, for_duration, 1,
                  coalesce(given_credits, 0), (given_credits IS NOT NULL)::int, coalesce(given_usd, 0), (given_usd IS NOT NULL)::int)
          ON CONFLICT (owner, day, status, model, duration) DO UPDATE
            SET n = u.n + 1, credits = u.credits + EXCLUDED.credits, credits_n = u.credits_n + EXCLUDED.credits_n,
                usd = u.usd + EXCLUDED.usd, usd_n = u.usd_n + EXCLUDED.usd_n
      $$;

      CREATE FUNCTION generation_usage_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        given_credits numeric;
        given_usd numeric;
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          DELETE FROM generation_usage_days;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          given_credits := generation_usage_number(OLD.usage->'credits');
          given_usd := generation_usage_number(OLD.usage->'usd');
          -- The last generation of a group takes its row with it, so the table holds only live groups.
          DELETE FROM generation_usage_days AS u
           WHERE u.owner = OLD.owner AND u.day = generation_usage_day(OLD.created_at) AND u.status = OLD.status
             AND u.model = OLD.model AND u.duration IS NOT DISTINCT FROM generation_usage_duration(OLD.input) AND u.n = 1;
          IF NOT FOUND THEN
            UPDATE generation_usage_days AS u
               SET n = u.n - 1, credits = u.credits - coalesce(given_credits, 0), credits_n = u.credits_n - (given_credits IS NOT NULL)::int,
                   usd = u.usd - coalesce(given_usd, 0), usd_n = u.usd_n - (given_usd IS NOT NULL)::int
             WHERE u.owner = OLD.owner AND u.day = generation_usage_day(OLD.created_at) AND u.status = OLD.status
               AND u.model = OLD.model AND u.duration IS NOT DISTINCT FROM generation_usage_duration(OLD.input);
          END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          PERFORM generation_usage_add(NEW.owner, generation_usage_day(NEW.created_at), NEW.status, NEW.model,
                                       generation_usage_duration(NEW.input), generation_usage_number(NEW.usage->'credits'),
                                       generation_usage_number(NEW.usage->'usd'));
        END IF;
        RETURN NULL;
      END $$;

      CREATE TRIGGER generations_usage_rows AFTER INSERT OR DELETE ON generations
        FOR EACH ROW EXECUTE FUNCTION generation_usage_counted();
      CREATE TRIGGER generations_usage_changes AFTER UPDATE OF status, usage ON generations
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.usage IS DISTINCT FROM NEW.usage)
        EXECUTE FUNCTION generation_usage_counted();
      CREATE TRIGGER generations_usage_truncate AFTER TRUNCATE ON generations
        FOR EACH STATEMENT EXECUTE FUNCTION generation_usage_counted();

      -- Deleting a generation takes it from its day (above), and the statement that deletes it records
      -- what was paid in deleted_usage (0015_media_retention_deleted_usage): that record adds it back, so
      -- usage never drops, while a row removed for never reaching the upstream leaves the sums for good.
      CREATE FUNCTION deleted_usage_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM generation_usage_add(NEW.owner, generation_usage_day(NEW.created_at), NEW.status, NEW.model,
                                     NEW.duration_seconds, NEW.credits::numeric, NEW.usd::numeric);
        RETURN NULL;
      END $$;
      CREATE TRIGGER deleted_usage_rows AFTER INSERT ON deleted_usage
        FOR EACH ROW EXECUTE FUNCTION deleted_usage_counted();
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
  {
    // Issue 14: all-time usage read the per-day sums, one row per day and group, so its cost grew with
    // every day of an owner's history (6.27x its 1k p99 at 1M rows). Per-owner totals, one row per
    // group, kept in the same write as the days: the functions of 0014_usage_days are replaced so each
    // write still pays one trigger call (which now upserts two rows), and every event that moves a day
    // (insert, delete, a status or usage change, truncate, a deleted_usage record) moves the totals alike.
    // Numeric sums for the same reason as the days: a change subtracts the old contribution.
    id: '0014_usage_totals',
    sql: `
      CREATE TABLE generation_usage_totals (
        owner     text NOT NULL,
        status    text NOT NULL,
        model     text NOT NULL,
        duration  int NULL,
        n         bigint NOT NULL,
        credits   numeric NOT NULL,
        credits_n bigint NOT NULL,
        usd       numeric NOT NULL,
        usd_n     bigint NOT NULL,
        UNIQUE NULLS NOT DISTINCT (owner, status, model, duration)
      );
      ${USAGE_TOTALS_FROM_ROWS}

      CREATE OR REPLACE FUNCTION generation_usage_add(for_owner text, for_day date, for_status text, for_model text, for_duration int,
                                                      given_credits numeric, given_usd numeric) RETURNS void LANGUAGE sql AS $$
        INSERT INTO generation_usage_days AS u (owner, day, status, model, duration, n, credits, credits_n, usd, usd_n)
          VALUES (for_owner, for_day, for_status, for_model, for_duration, 1,
                  coalesce(given_credits, 0), (given_credits IS NOT NULL)::int, coalesce(given_usd, 0), (given_usd IS NOT NULL)::int)
          ON CONFLICT (owner, day, status, model, duration) DO UPDATE
            SET n = u.n + 1, credits = u.credits + EXCLUDED.credits, credits_n = u.credits_n + EXCLUDED.credits_n,
                usd = u.usd + EXCLUDED.usd, usd_n = u.usd_n + EXCLUDED.usd_n;
        INSERT INTO generation_usage_totals AS t (owner, status, model, duration, n, credits, credits_n, usd, usd_n)
          VALUES (for_owner, for_status, for_model, for_duration, 1,
                  coalesce(given_credits, 0), (given_credits IS NOT NULL)::int, coalesce(given_usd, 0), (given_usd IS NOT NULL)::int)
          ON CONFLICT (owner, status, model, duration) DO UPDATE
            SET n = t.n + 1, credits = t.credits + EXCLUDED.credits, credits_n = t.credits_n + EXCLUDED.credits_n,
                usd = t.usd + EXCLUDED.usd, usd_n = t.usd_n + EXCLUDED.usd_n;
      $$;

      CREATE OR REPLACE FUNCTION generation_usage_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        given_credits numeric;
        given_usd numeric;
        old_day date;
        old_duration int;
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          DELETE FROM generation_usage_days;
          DELETE FROM generation_usage_totals;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          given_credits := generation_usage_number(OLD.usage->'credits');
          given_usd := generation_usage_number(OLD.usage->'usd');
          old_day := generation_usage_day(OLD.created_at);
          old_duration := generation_usage_duration(OLD.input);
          -- The last generation of a group takes its row with it, so both tables hold only live groups.
          DELETE FROM generation_usage_days AS u
           WHERE u.owner = OLD.owner AND u.day = old_day AND u.status = OLD.status
             AND u.model = OLD.model AND u.duration IS NOT DISTINCT FROM old_duration AND u.n = 1;
          IF NOT FOUND THEN
            UPDATE generation_usage_days AS u
               SET n = u.n - 1, credits = u.credits - coalesce(given_credits, 0), credits_n = u.credits_n - (given_credits IS NOT NULL)::int,
                   usd = u.usd - coalesce(given_usd, 0), usd_n = u.usd_n - (given_usd IS NOT NULL)::int
             WHERE u.owner = OLD.owner AND u.day = old_day AND u.status = OLD.status
               AND u.model = OLD.model AND u.duration IS NOT DISTINCT FROM old_duration;
          END IF;
          DELETE FROM generation_usage_totals AS t
           WHERE t.owner = OLD.owner AND t.status = OLD.status
             AND t.model = OLD.model AND t.duration IS NOT DISTINCT FROM old_duration AND t.n = 1;
          IF NOT FOUND THEN
            UPDATE generation_usage_totals AS t
               SET n = t.n - 1, credits = t.credits - coalesce(given_credits, 0), credits_n = t.credits_n - (given_credits IS NOT NULL)::int,
                   usd = t.usd - coalesce(given_usd, 0), usd_n = t.usd_n - (given_usd IS NOT NULL)::int
             WHERE t.owner = OLD.owner AND t.status = OLD.status
               AND t.model = OLD.model AND t.duration IS NOT DISTINCT FROM old_duration;
          END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          PERFORM generation_usage_add(NEW.owner, generation_usage_day(NEW.created_at), NEW.status, NEW.model,
                                       generation_usage_duration(NEW.input), generation_usage_number(NEW.usage->'credits'),
                                       generation_usage_number(NEW.usage->'usd'));
        END IF;
        RETURN NULL;
      END $$;
    `,
  },
  {
    // Issue 13: the roll-ups' rows were hot spots. A row's lock is held until its transaction commits,
    // and every status change updated one count row per status and one usage row per owner and group:
    // at 10k in flight on PostgreSQL the decrement of GENERATING waited 10.7 ms a call, every status
    // change of every instance queued behind it, and all of one owner's changes behind each other.
    // Each connection now writes to its own stripe of every roll-up (its backend's pid modulo 16), so
    // concurrent writers rarely share a row, and a statement changing many rows still touches only its
    // own stripe (no new lock order between connections). A decrement may land in a stripe the
    // increment did not, so a stripe's figures can be negative: only their sum means anything (readers
    // sum them). A usage row that adds up to nothing is removed, so the tables hold about only live groups.
    id: '0017_roll_up_stripes',
    sql: `
      ALTER TABLE generation_status_counts ADD COLUMN stripe int NOT NULL DEFAULT 0;
      ALTER TABLE generation_status_counts DROP CONSTRAINT generation_status_counts_pkey;
      ALTER TABLE generation_status_counts ADD PRIMARY KEY (status, stripe);

      ALTER TABLE generation_usage_days ADD COLUMN stripe int NOT NULL DEFAULT 0;
      ALTER TABLE generation_usage_days DROP CONSTRAINT generation_usage_days_owner_day_status_model_duration_key;
      ALTER TABLE generation_usage_days ADD CONSTRAINT generation_usage_days_group_stripe
        UNIQUE NULLS NOT DISTINCT (owner, day, status, model, duration, stripe);

      ALTER TABLE generation_usage_totals ADD COLUMN stripe int NOT NULL DEFAULT 0;
      ALTER TABLE generation_usage_totals DROP CONSTRAINT generation_usage_totals_owner_status_model_duration_key;
      ALTER TABLE generation_usage_totals ADD CONSTRAINT generation_usage_totals_group_stripe
        UNIQUE NULLS NOT DISTINCT (owner, status, model, duration, stripe);

      CREATE FUNCTION generation_roll_up_stripe() RETURNS int LANGUAGE sql STABLE AS $$
        SELECT pg_backend_pid() % 16
      $$;

      CREATE OR REPLACE FUNCTION generation_status_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          DELETE FROM generation_status_counts;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          INSERT INTO generation_status_counts AS c (status, stripe, n) VALUES (OLD.status, generation_roll_up_stripe(), -1)
            ON CONFLICT (status, stripe) DO UPDATE SET n = c.n - 1;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO generation_status_counts AS c (status, stripe, n) VALUES (NEW.status, generation_roll_up_stripe(), 1)
            ON CONFLICT (status, stripe) DO UPDATE SET n = c.n + 1;
        END IF;
        RETURN NULL;
      END $$;

      -- One generation's contribution added to (sign 1) or taken from (sign -1) its group, in this
      -- connection's stripe of the days and of the totals.
      CREATE FUNCTION generation_usage_move(for_owner text, for_day date, for_status text, for_model text, for_duration int,
                                            given_credits numeric, given_usd numeric, sign int) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        own_stripe int := generation_roll_up_stripe();
        add_credits numeric := sign * coalesce(given_credits, 0);
        add_credits_n int := sign * (given_credits IS NOT NULL)::int;
        add_usd numeric := sign * coalesce(given_usd, 0);
        add_usd_n int := sign * (given_usd IS NOT NULL)::int;
      BEGIN
        INSERT INTO generation_usage_days AS u (owner, day, status, model, duration, stripe, n, credits, credits_n, usd, usd_n)
          VALUES (for_owner, for_day, for_status, for_model, for_duration, own_stripe, sign, add_credits, add_credits_n, add_usd, add_usd_n)
          ON CONFLICT (owner, day, status, model, duration, stripe) DO UPDATE
            SET n = u.n + EXCLUDED.n, credits = u.credits + EXCLUDED.credits, credits_n = u.credits_n + EXCLUDED.credits_n,
                usd = u.usd + EXCLUDED.usd, usd_n = u.usd_n + EXCLUDED.usd_n;
        INSERT INTO generation_usage_totals AS t (owner, status, model, duration, stripe, n, credits, credits_n, usd, usd_n)
          VALUES (for_owner, for_status, for_model, for_duration, own_stripe, sign, add_credits, add_credits_n, add_usd, add_usd_n)
          ON CONFLICT (owner, status, model, duration, stripe) DO UPDATE
            SET n = t.n + EXCLUDED.n, credits = t.credits + EXCLUDED.credits, credits_n = t.credits_n + EXCLUDED.credits_n,
                usd = t.usd + EXCLUDED.usd, usd_n = t.usd_n + EXCLUDED.usd_n;
        IF sign < 0 THEN
          DELETE FROM generation_usage_days AS u
           WHERE u.owner = for_owner AND u.day = for_day AND u.status = for_status AND u.model = for_model
             AND u.duration IS NOT DISTINCT FROM for_duration AND u.stripe = own_stripe
             AND u.n = 0 AND u.credits = 0 AND u.credits_n = 0 AND u.usd = 0 AND u.usd_n = 0;
          DELETE FROM generation_usage_totals AS t
           WHERE t.owner = for_owner AND t.status = for_status AND t.model = for_model
             AND t.duration IS NOT DISTINCT FROM for_duration AND t.stripe = own_stripe
             AND t.n = 0 AND t.credits = 0 AND t.credits_n = 0 AND t.usd = 0 AND t.usd_n = 0;
        END IF;
      END $$;

      -- Still called by deleted_usage's trigger (0014_usage_days).
      CREATE OR REPLACE FUNCTION generation_usage_add(for_owner text, for_day date, for_status text, for_model text, for_duration int,
                                                      given_credits numeric, given_usd numeric) RETURNS void LANGUAGE sql AS $$
        SELECT generation_usage_move(for_owner, for_day, for_status, for_model, for_duration, given_credits, given_usd, 1)
      $$;

      CREATE OR REPLACE FUNCTION generation_usage_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          DELETE FROM generation_usage_days;
          DELETE FROM generation_usage_totals;
          RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          PERFORM generation_usage_move(OLD.owner, generation_usage_day(OLD.created_at), OLD.status, OLD.model,
                                        generation_usage_duration(OLD.input), generation_usage_number(OLD.usage->'credits'),
                                        generation_usage_number(OLD.usage->'usd'), -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          PERFORM generation_usage_move(NEW.owner, generation_usage_day(NEW.created_at), NEW.status, NEW.model,
                                        generation_usage_duration(NEW.input), generation_usage_number(NEW.usage->'credits'),
                                        generation_usage_number(NEW.usage->'usd'), 1);
        END IF;
        RETURN NULL;
      END $$;
    `,
  },
];
