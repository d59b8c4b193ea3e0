import type { WebhookEndpoint } from '../../../model/webhook';
import type { WebhookEndpointUpdate } from '../../store';
import { toDateOrNull, toWebhookEndpoint } from '../rows';
import { jsonParam, Params, type SqlSession } from '../session';

/** See WebhookEndpointRecords.updateWebhookEndpoint. */
export async function updateWebhookEndpoint(
  db: SqlSession,
  owner: string,
  id: string,
  update: WebhookEndpointUpdate,
): Promise<WebhookEndpoint | null> {
  const params = new Params();
  const sets: string[] = [`updated_at = ${params.add(update.at)}::timestamptz`];
  const { change } = update;
  if (change.url !== undefined) sets.push(`url = ${params.add(change.url)}`);
  if (change.description !== undefined) sets.push(`description = ${params.add(change.description)}`);
  if (change.events !== undefined) sets.push(`events = ${jsonParam(change.events, params)}`);
  if (change.enabled !== undefined) sets.push(`enabled = ${params.add(change.enabled)}`);
  if (update.disabledReason !== undefined) sets.push(`disabled_reason = ${params.add(update.disabledReason)}`);
  // Enabled again: its failures so far no longer count towards disabling it.
  if (change.enabled === true) sets.push('failing_since = NULL');
  if (update.secret !== undefined) {
    // SET expressions see the row as it was: the old secret becomes the previous one in the same statement.
    sets.push(
      `previous_secret = secret`,
      `previous_secret_expires_at = ${params.add(update.secret.previousExpiresAt)}::timestamptz`,
      `secret = ${params.add(update.secret.value)}`,
    );
  }
  const rows = await db.query(
    `UPDATE webhook_endpoints SET ${sets.join(', ')}
     WHERE owner = ${params.add(owner)} AND id = ${params.add(id)}
     RETURNING *`,
    params.values,
  );
  return rows[0] ? toWebhookEndpoint(rows[0]) : null;
}

/** Disables an endpoint the gateway gave up on (a 410), saying why. False when it is gone or already disabled. */
export async function disableWebhookEndpoint(db: SqlSession, id: string, reason: string, at: Date): Promise<boolean> {
  const rows = await db.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = $3::timestamptz
     WHERE id = $1 AND enabled RETURNING id`,
    [id, reason, at],
  );
  return rows.length > 0;
}

/** See WebhookSendQueue.recordWebhookEndpointHealth. */
export async function recordWebhookEndpointHealth(db: SqlSession, id: string, ok: boolean, at: Date): Promise<Date | null> {
  const rows = ok
    ? await db.query<{ failing_since: unknown }>('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 RETURNING failing_since', [id])
    : await db.query<{ failing_since: unknown }>(
        'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2::timestamptz) WHERE id = $1 RETURNING failing_since',
        [id, at],
      );
  return toDateOrNull(rows[0]?.failing_since);
}
