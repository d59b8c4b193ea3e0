import { Field, Float, Int, ObjectType } from 'type-graphql';
import { GenerationStatus } from '../../model/generation';

@ObjectType({ description: 'How many generations reached one status.' })
export class StatusCount {
  @Field(() => GenerationStatus)
  status!: GenerationStatus;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Your usage over a period: generations, seconds of video, and what the upstream charged (its `meta.usage`).' })
export class OwnerUsage {
  @Field(() => Date, { nullable: true, description: 'Start of the period (inclusive, by creation time); null means all time.' })
  since!: Date | null;

  @Field(() => Int, { description: 'Generations created in the period.' })
  generations!: number;

  @Field(() => [StatusCount], { description: 'Generations per current status; every status is listed, 0 when none.' })
  byStatus!: StatusCount[];

  @Field(() => Int, { description: 'Seconds of video of the COMPLETED generations (the requested duration, or the model default).' })
  videoSeconds!: number;

  @Field(() => Float, { description: 'Credits the upstream reported (`credits_used`), summed.' })
  credits!: number;

  @Field(() => Float, { description: 'US dollars the upstream reported (`usd_spent`), summed.' })
  usd!: number;
}
