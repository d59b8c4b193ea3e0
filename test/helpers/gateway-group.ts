/**
 * N gateway processes on one PostgreSQL (and one Redis when asked), in front of one simulator in this
 * process, as the scale-out suites run them: the services, the migrations and an owner's API key
 * first, then the instances, each with the same settings.
 */
import { createApiKey } from '../../src/auth/api-keys';
import { startSimulator, type Simulator } from '../../src/simulator';
import { createPgStore } from '../../src/store/pg-store';
import { SIMULATOR_KEY } from './gateway';
import { startGatewayProcess, startPostgres, startRedis, type GatewayProcess, type PostgresServer, type RedisServer } from './services';

export interface GatewayGroup {
  readonly postgres: PostgresServer;
  /** With `redis: true`; null otherwise. */
  readonly redis: RedisServer | null;
  /** The upstream of every instance, in this process. */
  readonly simulator: Simulator;
  /** An API key of `owner`, written before any instance started. */
  readonly key: string;
  /** Every instance started so far, in the order they came up, those stopped since too. */
  readonly gateways: GatewayProcess[];
  /** Starts one more instance, `env` over the group's settings. */
  startInstance(env?: Record<string, string>): Promise<GatewayProcess>;
  /** Stops every instance (SIGTERM), the simulator, Redis, and PostgreSQL, deleting its folder. */
  stop(): Promise<void>;
}

export interface GatewayGroupOptions {
  /** How many instances to start at first. */
  instances: number;
  /** Their INSTANCE_ID: `${name}-1`, `${name}-2`, … */
  name: string;
  /** The simulator's time scale, and the instances' UPSTREAM_TIME_SCALE. */
  timeScale: number;
  /** The simulator's seed. */
  seed: number;
  /** The owner of `key`. */
  owner: string;
  /** A Redis too, for the fan-out between instances (REDIS_URL). Default false. */
  redis?: boolean;
  /** Settings of every instance, over the group's: DATABASE_URL, the simulator as the upstream, POLL_MIN_INTERVAL_MS=2000. */
  env?: Record<string, string>;
  /** Start the first instances at once (racing on the migrations, already applied: a no-op each) rather than one after another. */
  atOnce?: boolean;
  /** Each instance's, as in `startGatewayProcess`. */
  startTimeoutMs?: number;
}

/**
 * PostgreSQL (and Redis when asked), one simulator, the migrations and an API key written before any
 * instance runs, then `instances` gateway processes on them all. A failed start stops what it started.
 */
export async function startGatewayGroup(options: GatewayGroupOptions): Promise<GatewayGroup> {
  const services = await Promise.allSettled([
    startPostgres(),
    options.redis ? startRedis() : Promise.resolve(null),
    startSimulator({ apiKey: SIMULATOR_KEY, port: 0, host: '127.0.0.1', timeScale: options.timeScale, seed: options.seed }),
  ] as const);
  const [postgres, redis, simulator] = services.map((s) => (s.status === 'fulfilled' ? s.value : null)) as [
    PostgresServer | null,
    RedisServer | null,
    Simulator | null,
  ];
  const gateways: GatewayProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await simulator?.stop();
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  };
  try {
    const failed = services.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const store = createPgStore({ connectionString: postgres!.url });
    await store.start(); // the migrations, so the key can be written before any instance runs
    const key = (await createApiKey(store, options.owner)).key;
    await store.stop();
    let started = 0;
    const startInstance = async (env: Record<string, string> = {}): Promise<GatewayProcess> => {
      started += 1;
      const gateway = await startGatewayProcess(
        `${options.name}-${started}`,
        {
          DATABASE_URL: postgres!.url,
          ...(redis ? { REDIS_URL: redis.url } : {}),
          AIMLAPI_API_KEY: SIMULATOR_KEY,
          AIMLAPI_BASE_URL: simulator!.url,
          UPSTREAM_TIME_SCALE: String(options.timeScale),
          POLL_MIN_INTERVAL_MS: '2000',
          ...options.env,
          ...env,
        },
        { startTimeoutMs: options.startTimeoutMs },
      );
      gateways.push(gateway);
      return gateway;
    };
    if (options.atOnce) await Promise.all(Array.from({ length: options.instances }, () => startInstance()));
    else for (let i = 0; i < options.instances; i++) await startInstance();
    return { postgres: postgres!, redis, simulator: simulator!, key, gateways, startInstance, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
