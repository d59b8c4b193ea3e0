/**
 * The upstream request budget shared by every instance through Redis: the same token bucket as
 * `TokenBucket`, kept in one Redis hash and changed only by a Lua script, so the check and the spend
 * are one atomic step for all instances together. The script reads Redis's own clock (TIME), so
 * instances whose clocks differ still share one rate.
 *
 * When Redis does not answer, this instance falls back to a bucket in its own memory with the same
 * settings (logged once per outage): the upstream is then protected per instance rather than not at all.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LocalRequestBudget, type RequestBudget, type RequestBudgetSettings, type Reservation, type Taken } from './request-budget';

export const BUDGET_KEY = 'veo-gateway:upstream-budget';

/**
 * KEYS[1]: the bucket. ARGV: op ('take' | 'refund' | 'rebook' | 'reserve'), amount (tokens, or max wait in ms
 * for 'reserve'), rate per second, burst. A missing bucket is empty (the ramp after a restart).
 * Returns {granted or ok (1/0), wait or retry in ms}.
 */
const BUCKET_SCRIPT = `
local op = ARGV[1]
local amount = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local function wait_for(n)
  if tokens >= n then return 0 end
  return math.ceil((n - tokens) * 1000 / rate)
end
local result
if op == 'take' then
  local granted = math.min(amount, math.floor(tokens))
  if granted < 0 then granted = 0 end
  tokens = tokens - granted
  if granted > 0 then result = {granted, 0} else result = {0, wait_for(1)} end
elseif op == 'refund' then
  tokens = math.min(burst, tokens + amount)
  result = {0, 0}
elseif op == 'rebook' then
  tokens = math.min(burst, tokens + amount) - amount
  result = {0, 0}
else
  local wait = wait_for(1)
  if wait > amount then
    result = {0, wait}
  else
    tokens = tokens - 1
    result = {1, wait}
  end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
-- Kept while it may still hold a debt or fewer than burst tokens; once gone it reads as empty.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 60000)
return result`;

export class SharedRequestBudget implements RequestBudget {
  private readonly local: LocalRequestBudget;
  private outage = false;

  constructor(
    readonly settings: RequestBudgetSettings,
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly key = BUDGET_KEY,
  ) {
    this.local = new LocalRequestBudget(settings);
  }

  async take(wanted: number): Promise<Taken> {
    if (wanted <= 0) return { granted: 0, retryInMs: 0 };
    const answer = await this.run('take', wanted);
    if (!answer) return this.local.take(wanted);
    return { granted: answer[0], retryInMs: answer[1] };
  }

  async refund(tokens: number): Promise<void> {
    if (tokens <= 0) return;
    if (!(await this.run('refund', tokens))) await this.local.refund(tokens);
  }

  async rebook(tokens: number): Promise<void> {
    if (tokens <= 0) return;
    if (!(await this.run('rebook', tokens))) await this.local.rebook(tokens);
  }

  async reserve(maxWaitMs: number): Promise<Reservation> {
    const answer = await this.run('reserve', maxWaitMs);
    if (!answer) return this.local.reserve(maxWaitMs);
    return answer[0] === 1 ? { ok: true, waitMs: answer[1] } : { ok: false, retryInMs: answer[1] };
  }

  private async run(op: 'take' | 'refund' | 'rebook' | 'reserve', amount: number): Promise<[number, number] | null> {
    try {
      const answer = (await this.redis.eval(
        BUCKET_SCRIPT,
        1,
        this.key,
        op,
        String(amount),
        String(this.settings.ratePerSecond),
        String(this.settings.burst),
      )) as [number, number];
      if (this.outage) {
        this.outage = false;
        this.log.info('upstream request budget shared through Redis again');
      }
      return answer;
    } catch (err) {
      if (!this.outage) {
        this.outage = true;
        this.log.warn({ err }, 'Redis did not answer for the upstream request budget; counting in this process until it does');
      }
      return null;
    }
  }
}
