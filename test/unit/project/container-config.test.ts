/**
 * compose.yaml and the Dockerfile set only variables the gateway (or the simulator) reads, with values
 * they accept. The configuration ignores unknown variables, so a misspelt one would otherwise be
 * silently without effect.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../../src/config';
import { simulatorOptionsFromEnv } from '../../../src/simulator/env';

const root = path.resolve(__dirname, '../../..');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
}
const compose = parse(readFileSync(path.join(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

/** `${VAR:-default}` as compose resolves it with VAR unset; `${VAR:?…}` (required) has no such value. */
function resolved(value: string | number | boolean): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?(:\?[^}]*)?\}/g, (_m, name: string, fallback?: string, required?: string) => {
    if (required) throw new Error(`${name} is required: compose cannot start without it`);
    return fallback ?? '';
  });
}

function envOf(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, resolved(v)]));
}

const gatewayServices = Object.entries(compose.services).filter(([, s]) => s.image === 'veo-gateway' && !s.command);
const simulator = compose.services.simulator;

it('has two gateway instances and a simulator', () => {
  expect(gatewayServices.map(([name]) => name).sort()).toEqual(['gateway-1', 'gateway-2']);
  expect(simulator?.command).toEqual(['node', 'dist/simulator/main.js']);
});

it.each(gatewayServices)('%s sets only variables the configuration reads, with values it accepts, without a key', (_name, service) => {
  const env = envOf(service);
  expect(Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k))).toEqual([]);
  // The image's own ENV lines come first, as at run time.
  const config = loadConfig({ ...dockerfileEnv(), ...env });
  // The shared simulator, not one per instance: a job created through one is known to the other's poller.
  expect(config.upstream).toMatchObject({ baseUrl: 'http://simulator:4010', legacyPaths: false });
  expect(config.upstream!.apiKey).toBe(envOf(simulator!).SIMULATOR_API_KEY);
  expect(config.databaseUrl).toMatch(/^postgres:\/\/.+@postgres:5432\//);
  expect(config.redisUrl).toBe('redis://redis:6379');
});

it('the simulator service sets only variables the simulator reads, with values it accepts', () => {
  const env = envOf(simulator!);
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
  });
  const options = simulatorOptionsFromEnv(recording);
  expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]);
  expect(options).toMatchObject({ host: '0.0.0.0', port: 4010, publicUrl: 'http://127.0.0.1:4010' });
});

/** The Dockerfile's runtime `ENV` lines, as name → value. */
function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, name, value] of line.slice(4).matchAll(/([A-Z0-9_]+)=(\S+)/g)) env[name!] = value!;
  }
  return env;
}

/** Runtime variables that the C library or Node reads, not the gateway: see docs/operations.md. */
const RUNTIME_VARIABLES = ['MALLOC_MMAP_THRESHOLD_', 'NODE_COMPILE_CACHE'];

it('the Dockerfile sets only variables the gateway, npm, Node or the C allocator reads', () => {
  const env = dockerfileEnv();
  expect(Object.keys(env)).toEqual(expect.arrayContaining(['NODE_ENV', 'HOST', 'PORT', 'DATA_DIR', ...RUNTIME_VARIABLES]));
  const known = (k: string) => CONFIG_VARIABLES.includes(k) || k.startsWith('NPM_CONFIG_') || RUNTIME_VARIABLES.includes(k);
  expect(Object.keys(env).filter((k) => !known(k))).toEqual([]);
  expect(loadConfig(env)).toMatchObject({ host: '0.0.0.0', port: 4000, dataDir: '/data', introspection: false });
});
