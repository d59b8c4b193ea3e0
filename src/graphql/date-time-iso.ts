/**
 * graphql-scalars' DateTimeISO (the scalar type-graphql gives every `Date`), with each Date's string
 * kept once made. An ended generation's dates are the same objects on every read (it is kept in
 * memory, finished-generations.ts), and turning them into strings was 5 % of a list request's CPU
 * (BENCHMARKS.md, HTTP). Same name, description and parsing, so the schema does not change.
 */
import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/** Keyed by the Date object; the time is kept beside the text in case a Date is changed in place. */
const serialized = new WeakMap<Date, { time: number; text: string }>();

const config = GraphQLDateTimeISO.toConfig();

export const DateTimeISO = new GraphQLScalarType<Date, string>({
  ...config,
  serialize(value: unknown): string {
    if (!(value instanceof Date)) return config.serialize(value);
    const time = value.getTime();
    const known = serialized.get(value);
    if (known?.time === time) return known.text;
    const text = config.serialize(value);
    serialized.set(value, { time, text });
    return text;
  },
});
