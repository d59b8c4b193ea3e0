import { Field, InputType, ObjectType } from 'type-graphql';
import { WebhookEventType } from '../../model/webhook';

@ObjectType({
  description:
    'Your signing secret for per-generation webhooks (`createVideoGeneration(input: { webhook })`); webhook endpoints have their own. Shown when created or rotated only.',
})
export class WebhookSigningSecret {
  @Field({
    description: 'The signing secret (`whsec_…`), as the standardwebhooks libraries take it. Store it now: it is not shown again.',
  })
  secret!: string;

  @Field(() => Date, {
    nullable: true,
    description: 'Until then deliveries are also signed with the secret before this rotation (two signatures in `webhook-signature`).',
  })
  previousSecretExpiresAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@InputType({ description: 'Where to call your backend about this one generation.' })
export class GenerationWebhookInput {
  @Field({
    description:
      'An https URL on a public host (http only where the gateway allows it); hosts that are or resolve to loopback, private, link-local or metadata addresses are refused.',
  })
  url!: string;

  @Field(() => [WebhookEventType], { nullable: true, description: 'The events to receive; null or absent: every event.' })
  events?: WebhookEventType[] | null;
}
