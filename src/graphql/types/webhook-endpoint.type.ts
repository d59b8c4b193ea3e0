import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { WebhookEventType } from '../../model/webhook';

@ObjectType({
  description:
    'Where the gateway calls your backend when your generations change, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with its secret.',
  simpleResolvers: true,
})
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The URL the gateway POSTs events to.' })
  url!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [WebhookEventType], { nullable: true, description: 'The events it receives; null: every event.' })
  events!: WebhookEventType[] | null;

  @Field({ description: 'Disabled endpoints receive nothing; `disabledReason` says why.' })
  enabled!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Why it was disabled: by you, because it answered 410 Gone, or because it failed for too long. Null while enabled.',
  })
  disabledReason!: string | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Since when attempts to it have failed with no success in between; null while it answers 2xx. Failing too long disables it.',
  })
  failingSince!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Until then deliveries are also signed with the secret before the last rotation (two signatures in `webhook-signature`).',
  })
  previousSecretExpiresAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType({ description: 'An endpoint with its signing secret: shown by create and rotation only, never again.' })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field({
    description: 'The signing secret (`whsec_…`), as the standardwebhooks libraries take it. Store it now: it is not shown again.',
  })
  secret!: string;
}

const URL_DESCRIPTION =
  'An https URL on a public host (http only where the gateway allows it); hosts that are or resolve to loopback, private, link-local or metadata addresses are refused.';

@InputType({ description: 'A new webhook endpoint.' })
export class CreateWebhookEndpointInput {
  @Field({ description: URL_DESCRIPTION })
  url!: string;

  @Field(() => String, { nullable: true, description: 'Your note on what it is for; at most 500 characters.' })
  description?: string | null;

  @Field(() => [WebhookEventType], { nullable: true, description: 'The events to receive; null or absent: every event.' })
  events?: WebhookEventType[] | null;
}

@InputType({ description: 'What to change on an endpoint; absent fields stay as they are.' })
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true, description: URL_DESCRIPTION })
  url?: string | null;

  @Field(() => String, { nullable: true, description: 'null clears it.' })
  description?: string | null;

  @Field(() => [WebhookEventType], { nullable: true, description: 'null: every event.' })
  events?: WebhookEventType[] | null;

  @Field(() => Boolean, { nullable: true, description: 'false disables it; true enables it again and clears `disabledReason`.' })
  enabled?: boolean | null;
}
