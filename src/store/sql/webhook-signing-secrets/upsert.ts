import type { WebhookSigningSecret } from '../../../model/webhook';
import { toWebhookSigningSecret } from '../rows';
import type { SqlSession } from '../session';

/** See WebhookSigningSecretRecords.rotateWebhookSigningSecret. */
export async function rotateWebhookSigningSecret(
  db: SqlSession,
  owner: string,
  secret: string,
  previousExpiresAt: Date,
  at: Date,
): Promise<WebhookSigningSecret> {
  // One statement, so two rotations at once cannot both keep the same previous secret.
  const rows = await db.query(
    `INSERT INTO webhook_signing_secrets (owner, secret, created_at, updated_at) VALUES ($1, $2, $4::timestamptz, $4::timestamptz)
     ON CONFLICT (owner) DO UPDATE SET
       previous_secret = webhook_signing_secrets.secret,
       previous_secret_expires_at = $3::timestamptz,
       secret = EXCLUDED.secret,
       updated_at = EXCLUDED.updated_at
     RETURNING *`,
    [owner, secret, previousExpiresAt, at],
  );
  return toWebhookSigningSecret(rows[0]!);
}
