/**
 * The owner's view of the webhook outbox: which events went (or are going) where, and how each
 * attempt went. Scoped to the owner like everything else.
 */
import { badInput, notFound } from '../errors';
import type { WebhookDelivery } from '../model/webhook';
import type { WebhookDeliveryRecords, WebhookEndpointRecords } from '../store/store';
import { throwEndpointNotFound } from './endpoints';

/** Largest page of deliveries. */
export const MAX_DELIVERIES_PAGE = 100;

export interface DeliveryFilter {
  endpointId?: string | null;
  generationId?: string | null;
  first: number;
}

export class WebhookDeliveries {
  constructor(
    private readonly store: WebhookDeliveryRecords & Pick<WebhookEndpointRecords, 'getWebhookEndpoint'>,
    /** Wakes this instance's sender, so the attempt goes now rather than at its next look. */
    private readonly onRedeliver?: () => void,
  ) {}

  /** Newest first. An endpoint id that is not the owner's is NOT_FOUND; a generation id only filters. */
  async list(owner: string, filter: DeliveryFilter): Promise<WebhookDelivery[]> {
    if (!Number.isInteger(filter.first) || filter.first < 1 || filter.first > MAX_DELIVERIES_PAGE) {
      throw badInput('first', `first must be between 1 and ${MAX_DELIVERIES_PAGE}`);
    }
    if (filter.endpointId != null && !(await this.store.getWebhookEndpoint(owner, filter.endpointId))) throwEndpointNotFound();
    return this.store.listWebhookDeliveries({
      owner,
      endpointId: filter.endpointId ?? undefined,
      generationId: filter.generationId ?? undefined,
      limit: filter.first,
    });
  }

  /** One more attempt, now, whatever became of the delivery (the same `webhook-id`). */
  async redeliver(owner: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.store.redeliverWebhookDelivery(owner, id, new Date());
    if (!delivery) throw notFound('Webhook delivery');
    this.onRedeliver?.();
    return delivery;
  }
}
