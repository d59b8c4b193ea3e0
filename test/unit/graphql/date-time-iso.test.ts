import { GraphQLDateTimeISO } from 'graphql-scalars';
import { DateTimeISO } from '../../../src/graphql/date-time-iso';

describe('DateTimeISO (kept strings)', () => {
  it('is the same scalar to clients: name, description and answers', () => {
    expect(DateTimeISO.name).toBe(GraphQLDateTimeISO.name);
    expect(DateTimeISO.description).toBe(GraphQLDateTimeISO.description);
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(DateTimeISO.serialize(at)).toBe('2026-01-02T03:04:05.678Z');
    expect(DateTimeISO.serialize(at)).toBe('2026-01-02T03:04:05.678Z');
    expect(DateTimeISO.serialize('2026-01-02T03:04:05Z')).toBe(GraphQLDateTimeISO.serialize('2026-01-02T03:04:05Z'));
    expect(DateTimeISO.parseValue('2026-01-02T03:04:05Z')).toEqual(new Date('2026-01-02T03:04:05Z'));
  });

  it('answers a Date changed in place with its new time, not the kept string', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(DateTimeISO.serialize(at)).toBe('2026-01-02T03:04:05.000Z');
    at.setTime(Date.parse('2027-05-06T07:08:09.000Z'));
    expect(DateTimeISO.serialize(at)).toBe('2027-05-06T07:08:09.000Z');
  });

  it('refuses an invalid Date as graphql-scalars does', () => {
    expect(() => DateTimeISO.serialize(new Date(Number.NaN))).toThrow('invalid Date');
  });
});
