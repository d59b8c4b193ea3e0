import { Field, ID, Int, ObjectType } from 'type-graphql';
import { WebhookDeliveryStatus, WebhookEventType } from '../../model/webhook';

@ObjectType({ description: 'One event for one webhook endpoint: what was sent, and how its attempts went.', simpleResolvers: true })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The `webhook-id` header: the same for every endpoint and every attempt of one event. De-duplicate by it.' })
  messageId!: string;

  @Field(() => ID, { nullable: true, description: 'The endpoint it goes to; null for a webhook named by the generation itself.' })
  endpointId!: string | null;

  @Field(() => ID)
  generationId!: string;

  @Field(() => Int, { description: "The generation's version the event reports." })
  generationVersion!: number;

  @Field(() => WebhookEventType)
  eventType!: WebhookEventType;

  @Field(() => WebhookDeliveryStatus)
  status!: WebhookDeliveryStatus;

  @Field(() => Int, { description: 'Attempts made so far.' })
  attempts!: number;

  @Field(() => Date, { nullable: true, description: 'When it is tried (again); null once delivered or given up.' })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "The last attempt's HTTP status; null when there was no answer." })
  lastStatusCode!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed, when it did (timeout, refused connection, redirect…).' })
  lastError!: string | null;

  @Field(() => String, { nullable: true, description: "The start of the last answer's body." })
  lastResponseExcerpt!: string | null;

  @Field(() => Int, { nullable: true, description: 'How long the last attempt took, in ms.' })
  lastDurationMs!: number | null;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;

  @Field({ description: 'When the event was queued (the change it reports happened then).' })
  createdAt!: Date;
}
