/**
 * Per-generation webhooks (as Replicate and fal offer): `createVideoGeneration` names a URL and events
 * for that one generation. They are signed with the owner's signing secret, which the owner creates
 * (and later rotates) with a mutation that shows it once. A per-generation webhook is refused until
 * that secret exists: a webhook nobody can verify would be worse than none.
 */
import { badInput } from '../errors';
import type { GenerationWebhook, WebhookEventType, WebhookSigningSecret } from '../model/webhook';
import type { WebhookSigningSecretRecords } from '../store/store';
import { checkEndpointUrl, type EndpointUrlPolicy, type ResolveHost } from './endpoint-url';
import { checkEvents, newSecret } from './endpoints';

export interface GenerationWebhookSettings extends EndpointUrlPolicy {
  /** How long the secret before a rotation keeps signing deliveries beside the new one, in ms. */
  secretRotationGraceMs: number;
}

export interface GenerationWebhookInput {
  url: string;
  /** null or undefined: every event. */
  events?: readonly WebhookEventType[] | null;
}

export class GenerationWebhooks {
  constructor(
    private readonly store: WebhookSigningSecretRecords,
    private readonly settings: GenerationWebhookSettings,
    private readonly resolve: ResolveHost,
  ) {}

  /** Creates the owner's signing secret, or replaces it (the old one signs too during the grace period). */
  rotateSigningSecret(owner: string): Promise<WebhookSigningSecret> {
    const now = new Date();
    return this.store.rotateWebhookSigningSecret(owner, newSecret(), new Date(now.getTime() + this.settings.secretRotationGraceMs), now);
  }

  /** The webhook to store with a new generation, checked like an endpoint's URL; `field` names the input. */
  async check(owner: string, input: GenerationWebhookInput, field: string): Promise<GenerationWebhook> {
    const events = checkEvents(input.events ?? null, `${field}.events`);
    const url = await checkEndpointUrl(`${field}.url`, input.url, this.settings, this.resolve);
    if ((await this.store.getWebhookSigningSecrets([owner])).length === 0) {
      throw badInput(
        field,
        `${field}: create your webhook signing secret first (mutation rotateWebhookSigningSecret); per-generation webhooks are signed with it`,
      );
    }
    return { url: url.href, events };
  }
}
