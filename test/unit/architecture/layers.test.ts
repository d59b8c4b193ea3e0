/**
 * The layers of src/, checked on every import so they cannot drift back. Each top-level entry of
 * src/ (a folder, or a file at the root) sits in one layer; an import may point to its own layer or
 * a lower one, never up, and the folders must not import each other round in a cycle (within a
 * layer, one folder may use another, but not both ways). Sub-folders belong to their top folder.
 *
 * Imports are read with the TypeScript compiler's own scanner (`ts.preProcessFile`): it sees every
 * static import and re-export, `import type`, `require` and `import()`, needs no new dependency, and
 * the rules fit in this file, where they also document the layering for whoever adds a folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../../src');

/** Top to bottom. Names are top-level entries of src/ (folders, or root files without `.ts`). */
const LAYERS: readonly (readonly string[])[] = [
  /* entry points */ ['main', 'cli'],
  /* composition root */ ['app'],
  /* transports */ ['server'],
  ['graphql'],
  /* cross-cutting services around the domain */ ['auth', 'quotas', 'scale'],
  /* the domain */ ['generations', 'webhooks'],
  /* what the domain drives */ ['upstream', 'store', 'media'],
  /* leaves: vocabulary and process-wide settings */ ['model', 'config', 'errors', 'logger', 'secret-redaction', 'cors-origins', 'lifecycle'],
];

/**
 * Units outside the stack. The simulator is a program of its own that stands in for the upstream:
 * it may read the vendor specs, and only the composition root starts it. web/ is browser code,
 * bundled separately: nothing in src/ imports it, and it imports nothing of the gateway.
 */
const OUTSIDE: Readonly<Record<string, { mayImport: readonly string[]; importedBy: readonly string[] }>> = {
  simulator: { mayImport: ['upstream/vendor/'], importedBy: ['app'] },
  web: { mayImport: [], importedBy: [] },
};

export interface Import {
  /** Importing file, relative to src/ with `/` separators. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported path, relative to src/ (outside src/ it starts with `../`). */
  to: string;
}

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every relative import in src/ (packages are not layers). */
export function scanImports(root: string): Import[] {
  return sourceFiles(root).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const from = toPosix(path.relative(root, file));
    return importedFiles
      .filter((imported) => imported.fileName.startsWith('.'))
      .map((imported) => ({
        from,
        specifier: imported.fileName,
        to: toPosix(path.relative(root, path.resolve(path.dirname(file), imported.fileName))),
      }));
  });
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** The top-level entry of src/ a path belongs to: its first folder, or the root file's name. */
export function unitOf(relative: string): string {
  const [first, ...rest] = relative.split('/');
  return rest.length > 0 ? first! : first!.replace(/\.[^.]+$/, '');
}

function layerOf(unit: string, layers: readonly (readonly string[])[]): number {
  return layers.findIndex((layer) => layer.includes(unit));
}

function importLine(i: Import): string {
  return `src/${i.from} imports '${i.specifier}'`;
}

/** What breaks the layering, one line per offending import (or cycle), naming file and import. */
export function layeringViolations(
  imports: readonly Import[],
  layers: readonly (readonly string[])[] = LAYERS,
  outside: typeof OUTSIDE = OUTSIDE,
): string[] {
  const problems: string[] = [];
  const unplaced = new Set<string>();
  const edges = new Map<string, Map<string, Import>>();

  for (const i of imports) {
    const from = unitOf(i.from);
    if (i.to.startsWith('../')) {
      if (!(from in outside)) problems.push(`${importLine(i)}: outside src/`);
      continue;
    }
    const to = unitOf(i.to);
    if (from === to) continue;
    for (const unit of [from, to]) {
      if (!(unit in outside) && layerOf(unit, layers) < 0) unplaced.add(unit);
    }
    const toOutside = outside[to];
    if (toOutside && !toOutside.importedBy.includes(from)) {
      problems.push(`${importLine(i)}: ${to}/ may be imported by ${toOutside.importedBy.join(', ') || 'nothing in src/'}`);
      continue;
    }
    const fromOutside = outside[from];
    if (fromOutside) {
      if (!fromOutside.mayImport.some((allowed) => i.to.startsWith(allowed))) {
        problems.push(`${importLine(i)}: ${from}/ may import only ${fromOutside.mayImport.join(', ') || 'itself'}`);
      }
      continue;
    }
    if (toOutside) continue;
    const fromLayer = layerOf(from, layers);
    const toLayer = layerOf(to, layers);
    if (fromLayer >= 0 && toLayer >= 0 && toLayer < fromLayer) {
      problems.push(`${importLine(i)}: ${to} (layer ${toLayer}) is above ${from} (layer ${fromLayer}); imports point down`);
    }
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, i);
  }

  for (const unit of unplaced) problems.push(`src/${unit} is in no layer: add it to LAYERS in this test`);
  for (const { group, cycle } of unitCycles(edges)) {
    const steps = cycle.map((unit, k) => edges.get(unit)!.get(cycle[(k + 1) % cycle.length]!)!);
    // Fixing one cycle of a larger tangle leaves the others, so name every folder caught in it.
    const among = group.length > cycle.length ? ` (one of the cycles among ${group.join(', ')})` : '';
    problems.push(`folder cycle ${[...cycle, cycle[0]].join(' -> ')}${among}: ${steps.map(importLine).join('; ')}`);
  }
  return problems;
}

/** Each strongly connected group of units (Tarjan), with one shortest cycle through its first member. */
function unitCycles(edges: ReadonlyMap<string, ReadonlyMap<string, Import>>): { group: string[]; cycle: string[] }[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const next = (unit: string) => [...(edges.get(unit)?.keys() ?? [])];

  const visit = (unit: string): void => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit)!);
    stack.push(unit);
    onStack.add(unit);
    for (const to of next(unit)) {
      if (!index.has(to)) {
        visit(to);
        low.set(unit, Math.min(low.get(unit)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(to)!));
      }
    }
    if (low.get(unit) === index.get(unit)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== unit);
      if (group.length > 1) groups.push(group);
    }
  };
  for (const unit of edges.keys()) if (!index.has(unit)) visit(unit);

  return groups.map((group) => ({ group: group.sort(), cycle: shortestCycle(group, next) }));
}

/** A shortest path from the group's first member round to itself (breadth-first), as the units it passes. */
function shortestCycle(group: readonly string[], next: (unit: string) => string[]): string[] {
  const members = new Set(group);
  const start = group[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const unit = queue.shift()!;
    for (const to of next(unit).filter((t) => members.has(t))) {
      if (to === start) {
        const cycle = [unit];
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0]!)!);
        return cycle;
      }
      if (!previous.has(to)) {
        previous.set(to, unit);
        queue.push(to);
      }
    }
  }
  return [...group];
}

describe('the layers of src/', () => {
  const imports = scanImports(SRC);

  it('reads the real import graph (so an empty scan cannot pass)', () => {
    expect(imports.length).toBeGreaterThan(200);
    expect(imports).toContainEqual({ from: 'app.ts', specifier: './config', to: 'config' });
    expect(imports).toContainEqual(expect.objectContaining({ from: 'simulator/vendor-specs.ts', to: 'upstream/vendor/aimlapi-video-specs.json' }));
  });

  it('has no import that runs up the layers, leaves its place, or closes a folder cycle', () => {
    expect(layeringViolations(imports)).toEqual([]);
  });
});

describe('the layering check itself', () => {
  const edge = (from: string, specifier: string, to: string): Import => ({ from, specifier, to });
  const ok = [
    edge('app.ts', './generations/service', 'generations/service'),
    edge('generations/service.ts', '../store/store', 'store/store'),
    edge('store/store.ts', '../model/generation', 'model/generation'),
  ];

  it('accepts imports that point down', () => {
    expect(layeringViolations(ok)).toEqual([]);
  });

  it('names the file and import that runs up a layer', () => {
    const up = edge('store/sql-store.ts', '../generations/service', 'generations/service');
    expect(layeringViolations([...ok, up])).toContainEqual(
      expect.stringContaining("src/store/sql-store.ts imports '../generations/service': generations (layer 5) is above store (layer 6)"),
    );
  });

  it('finds two folders of one layer that import each other, directly or round a longer cycle', () => {
    const direct = [edge('auth/a.ts', '../quotas/b', 'quotas/b'), edge('quotas/b.ts', '../auth/a', 'auth/a')];
    expect(layeringViolations(direct)).toEqual([
      "folder cycle auth -> quotas -> auth: src/auth/a.ts imports '../quotas/b'; src/quotas/b.ts imports '../auth/a'",
    ]);
    const round = [
      edge('auth/a.ts', '../quotas/b', 'quotas/b'),
      edge('quotas/b.ts', '../scale/c', 'scale/c'),
      edge('scale/c.ts', '../auth/a', 'auth/a'),
    ];
    expect(layeringViolations(round)).toEqual([expect.stringMatching(/^folder cycle auth -> quotas -> scale -> auth: /)]);
    const tangle = [...round, edge('auth/a.ts', '../scale/c', 'scale/c')];
    expect(layeringViolations(tangle)).toEqual([
      "folder cycle auth -> scale -> auth (one of the cycles among auth, quotas, scale): src/auth/a.ts imports '../scale/c'; src/scale/c.ts imports '../auth/a'",
    ]);
  });

  it('keeps the simulator and the browser code apart, and asks for a layer for a new folder', () => {
    expect(
      layeringViolations([
        edge('generations/poller.ts', '../simulator/server', 'simulator/server'),
        edge('simulator/server.ts', '../config', 'config'),
        edge('graphql/schema.ts', '../web/api-key', 'web/api-key'),
        edge('notifications/send.ts', '../model/generation', 'model/generation'),
      ]),
    ).toEqual([
      "src/generations/poller.ts imports '../simulator/server': simulator/ may be imported by app",
      "src/simulator/server.ts imports '../config': simulator/ may import only upstream/vendor/",
      "src/graphql/schema.ts imports '../web/api-key': web/ may be imported by nothing in src/",
      'src/notifications is in no layer: add it to LAYERS in this test',
    ]);
  });
});
