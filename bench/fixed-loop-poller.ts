/**
 * The baseline for upstream efficiency: what the vendor's samples and SDK do. Every job is polled
 * every 10 s from its creation until it leaves `queued`/`generating`, straight against the upstream.
 */

export const VENDOR_INTERVAL_MS = 10_000;

export interface FixedLoopResult {
  polls: number;
  /** Wall-clock ms when a poll first saw a terminal status. */
  /** Date.now() when the end was seen: the simulator's completesAt is on the same wall clock. */
  noticedAt: number;
  status: string;
}

/** Polls `id` every `VENDOR_INTERVAL_MS × timeScale` from `createdAt` until it is terminal (or `giveUpAt`). */
export async function pollWithFixedLoop(options: {
  baseUrl: string;
  apiKey: string;
  id: string;
  createdAt: number;
  timeScale: number;
  giveUpAt: number;
}): Promise<FixedLoopResult> {
  const interval = VENDOR_INTERVAL_MS * options.timeScale;
  let polls = 0;
  for (let next = options.createdAt + interval; ; next += interval) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const res = await fetch(`${options.baseUrl}/v2/video/generations?generation_id=${encodeURIComponent(options.id)}`, {
      headers: { authorization: `Bearer ${options.apiKey}` },
    });
    const body = (await res.json()) as { status?: string };
    polls++;
    const status = body.status ?? `http ${res.status}`;
    if (status !== 'queued' && status !== 'generating') return { polls, noticedAt: Date.now(), status };
    if (Date.now() > options.giveUpAt) throw new Error(`fixed loop gave up on ${options.id} (still ${status})`);
  }
}
