/**
 * The outbox insert that a data-modifying statement appends as one more CTE, so that a change and the
 * deliveries reporting it commit together or not at all. `from` names the CTE holding the changed
 * generations (RETURNING *); `eventType` is an SQL expression over its row `u`, and `when` a condition
 * over `u` saying whether the change is an event at all.
 *
 * One pending delivery per enabled endpoint of the owner whose filter takes the event, and one for the
 * generation's own webhook (url set, no endpoint) when it takes the event. The message id, the
 * `webhook-id` receivers de-duplicate by, is the generation's id and new version: the same for every
 * endpoint and every retry, and distinct between events, since each event is a version of its own.
 */
export function webhookOutboxInsert(from: string, eventType: string, when: string): string {
  return `
  INSERT INTO webhook_deliveries (
    id, message_id, owner, endpoint_id, url, generation_id, generation_version, event_type, data,
    occurred_at, created_at, status, next_attempt_at
  )
  SELECT 'whd_' || gen_random_uuid()::text, 'msg_' || u.id || '_' || u.version::text, u.owner, t.endpoint_id, t.url, u.id, u.version,
    ${eventType},
    jsonb_build_object('id', u.id, 'status', u.status, 'version', u.version, 'model', u.model,
      'video', u.video, 'error', u.error, 'usage', u.usage),
    u.updated_at, u.updated_at, 'PENDING', u.updated_at
  FROM ${from} u
  JOIN LATERAL (
    SELECT e.id AS endpoint_id, NULL::text AS url, e.events FROM webhook_endpoints e WHERE e.owner = u.owner AND e.enabled
    UNION ALL
    SELECT NULL::text, u.webhook_url, u.webhook_events WHERE u.webhook_url IS NOT NULL
  ) t ON true
  WHERE (${when})
    AND (t.events IS NULL OR t.events ? (${eventType}))
  ON CONFLICT DO NOTHING`;
}
