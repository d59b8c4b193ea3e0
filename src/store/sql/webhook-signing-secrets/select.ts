import type { WebhookSigningSecret } from '../../../model/webhook';
import { toWebhookSigningSecret } from '../rows';
import type { SqlSession } from '../session';

/** See WebhookSigningSecretRecords.getWebhookSigningSecrets. */
export async function getWebhookSigningSecrets(db: SqlSession, owners: readonly string[]): Promise<WebhookSigningSecret[]> {
  if (owners.length === 0) return [];
  const rows = await db.query('SELECT * FROM webhook_signing_secrets WHERE owner IN (SELECT jsonb_array_elements_text($1::jsonb))', [
    JSON.stringify(owners),
  ]);
  return rows.map(toWebhookSigningSecret);
}
