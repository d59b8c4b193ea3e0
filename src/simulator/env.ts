/**
 * Simulator settings from environment variables, for `npm run simulator`.
 */
import type { SimulatorOptions } from './server';

export class SimulatorEnvError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'SimulatorEnvError';
  }
}

/**
 * SIMULATOR_PORT (default 4010), SIMULATOR_HOST (default 127.0.0.1), SIMULATOR_API_KEY (default
 * `sim-key`), SIMULATOR_TIME_SCALE (default 1), SIMULATOR_CREATE_STATUS (200 or 201, default 201),
 * SIMULATOR_FILE_LINK_TTL_SECONDS (how long finished-video links work, default 3600),
 * SIMULATOR_VIDEO_BYTES (every finished video's size in bytes, the clip padded with zeros; default: the clip's own),
 * SIMULATOR_STATE_FILE, SIMULATOR_SEED and SIMULATOR_PUBLIC_URL (all optional). Empty counts as
 * unset. Throws `SimulatorEnvError` naming the first bad variable.
 */
export function simulatorOptionsFromEnv(env: NodeJS.ProcessEnv): SimulatorOptions {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const options: SimulatorOptions = {
    port: integer('SIMULATOR_PORT', get('SIMULATOR_PORT') ?? '4010', 0, 65535),
    host: get('SIMULATOR_HOST') ?? '127.0.0.1',
    apiKey: get('SIMULATOR_API_KEY') ?? 'sim-key',
    timeScale: positive('SIMULATOR_TIME_SCALE', get('SIMULATOR_TIME_SCALE') ?? '1'),
    createStatus: createStatus(get('SIMULATOR_CREATE_STATUS') ?? '201'),
    fileLinkTtlSeconds: integer('SIMULATOR_FILE_LINK_TTL_SECONDS', get('SIMULATOR_FILE_LINK_TTL_SECONDS') ?? '3600', 1, 365 * 86_400),
  };
  const videoBytes = get('SIMULATOR_VIDEO_BYTES');
  if (videoBytes) options.videoBytes = integer('SIMULATOR_VIDEO_BYTES', videoBytes, 1, Number.MAX_SAFE_INTEGER);
  const stateFile = get('SIMULATOR_STATE_FILE');
  if (stateFile) options.stateFile = stateFile;
  const seed = get('SIMULATOR_SEED');
  if (seed) options.seed = seed;
  const publicUrl = get('SIMULATOR_PUBLIC_URL');
  if (publicUrl) {
    if (!/^https?:\/\/[^/]+/.test(publicUrl)) throw new SimulatorEnvError('SIMULATOR_PUBLIC_URL', `expected an http(s) URL, got "${publicUrl}"`);
    options.publicUrl = publicUrl;
  }
  return options;
}

function integer(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new SimulatorEnvError(name, `expected an integer ${min}-${max}, got "${raw}"`);
  return n;
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new SimulatorEnvError(name, `expected a number > 0, got "${raw}"`);
  return n;
}

function createStatus(raw: string): 200 | 201 {
  if (raw === '200') return 200;
  if (raw === '201') return 201;
  throw new SimulatorEnvError('SIMULATOR_CREATE_STATUS', `expected 200 or 201, got "${raw}"`);
}
