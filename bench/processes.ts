/**
 * Forking the benchmark's helper processes (server hosts and load drivers) from either the
 * compiled bench (dist-bench, `.js`) or the TypeScript sources (the jest smoke test), where the
 * entry is bundled with esbuild first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Bundles already built (or being built) by this process, by module name. */
const bundles = new Map<string, Promise<string>>();

/** The runnable `.js` for a sibling module `name` (e.g. 'server-host'). */
function entryFor(name: string): Promise<string> {
  const compiled = path.join(__dirname, `${name}.js`);
  if (existsSync(compiled)) return Promise.resolve(compiled);
  let bundle = bundles.get(name);
  if (!bundle) bundles.set(name, (bundle = bundleFromSources(name)));
  return bundle;
}

/**
 * Running from TypeScript sources (jest): bundles the bench entry with esbuild, but takes the
 * gateway from the tsc build in dist/ (type-graphql needs decorator metadata, which esbuild does not
 * emit). The bundle goes inside the repository so its bare imports resolve to its node_modules.
 */
async function bundleFromSources(name: string): Promise<string> {
  const root = path.resolve(__dirname, '..');
  const out = path.join(root, 'node_modules/.cache/veo-bench', `${name}.js`);
  mkdirSync(path.dirname(out), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when running from the TypeScript sources
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(__dirname, `${name}.ts`)],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [
      {
        name: 'gateway-from-dist',
        setup(build) {
          build.onResolve({ filter: /\/src\// }, (args) => {
            const relative = path.relative(path.join(root, 'src'), path.resolve(args.resolveDir, args.path));
            const file = path.join(root, 'dist', relative);
            return { path: existsSync(`${file}.js`) ? `${file}.js` : path.join(file, 'index.js'), external: true };
          });
        },
      },
    ],
  });
  return out;
}

/** A forked process and its first message (what `HostProcess.start` resolves with). */
export type Started<T> = { host: HostProcess; first: T; startedAt: number };

/**
 * Stops processes started ahead of their use, whether or not they were used (stopping an exited
 * one does nothing), so an error in between leaves none behind.
 */
export async function stopAll(started: readonly Promise<Started<unknown>>[]): Promise<void> {
  await Promise.all(
    started.map((p) =>
      p.then(
        (s) => s.host.stop(),
        () => {},
      ),
    ),
  );
}

export class HostProcess {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (msg: { seq?: number; reply?: unknown; error?: string }) => {
      if (msg.seq === undefined) return;
      const w = this.waiting.get(msg.seq);
      this.waiting.delete(msg.seq);
      if (msg.error) w?.reject(new Error(msg.error));
      else w?.resolve(msg.reply);
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`process exited (${code})`));
      this.waiting.clear();
    });
  }

  /** Forks `name` with `args`; resolves with the process and its first message. */
  static async start<T>(name: string, args: string[], execArgv: string[] = []): Promise<{ host: HostProcess; first: T; startedAt: number }> {
    const startedAt = Date.now();
    // BENCH_NODE_ARGS adds node flags to every forked process, e.g. `--cpu-prof --cpu-prof-dir=prof`.
    const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = fork(await entryFor(name), args, { execArgv: [...execArgv, ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const first = await new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
    });
    return { host: new HostProcess(child), first, startedAt };
  }

  request<T>(req: unknown): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.child.send({ seq, req });
    });
  }

  /** Asks it to stop, and kills it if it has not exited within `ms`. */
  async stop(ms = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.request({ type: 'stop' }).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }
}
