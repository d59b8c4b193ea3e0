import type { WebhookEndpoint } from '../../../model/webhook';
import { jsonParam, Params, type SqlSession } from '../session';

/** See WebhookEndpointRecords.insertWebhookEndpoint. */
export async function insertWebhookEndpoint(db: SqlSession, e: WebhookEndpoint, maxPerOwner: number): Promise<boolean> {
  const params = new Params();
  // The cap is checked by the insert itself, so no read-then-write gap lets a burst of creates
  // through one by one (concurrent transactions can still overshoot by their number: good enough for a cap).
  const rows = await db.query(
    `INSERT INTO webhook_endpoints (
       id, owner, url, description, events, enabled, disabled_reason, secret,
       previous_secret, previous_secret_expires_at, created_at, updated_at
     )
     SELECT ${params.add(e.id)}, ${params.add(e.owner)}::text, ${params.add(e.url)}, ${params.add(e.description)},
       ${jsonParam(e.events, params)}, ${params.add(e.enabled)}, ${params.add(e.disabledReason)}, ${params.add(e.secret)},
       ${params.add(e.previousSecret)}, ${params.add(e.previousSecretExpiresAt)}::timestamptz,
       ${params.add(e.createdAt)}::timestamptz, ${params.add(e.updatedAt)}::timestamptz
     WHERE (SELECT count(*) FROM webhook_endpoints WHERE owner = $2::text) < ${params.add(maxPerOwner)}::int
     RETURNING id`,
    params.values,
  );
  return rows.length > 0;
}
