/**
 * Generation change events: one topic per generation and one per owner.
 *
 * Events are dispatched on an EventTarget, so a Redis-backed EventTarget can replace the
 * in-process one when scaled out.
 * Pub/sub may drop messages; subscribers are made whole by the snapshot-then-versions rule in
 * `watchGeneration`, not by trusting delivery.
 */
import { setMaxListeners } from 'node:events';
import { EventStream } from './event-stream';
import { isSettled, type Generation, type GenerationStatus } from '../model/generation';

export const Topic = {
  generation: 'GENERATION',
  owner: 'OWNER',
  /** Generations gone or changed where no poll saw it (a delete, a retention sweep): one channel for all. */
  removed: 'REMOVED',
} as const;

/** The one REMOVED channel, which every instance listens on (the key is fixed). */
const REMOVED = topicOf(Topic.removed, 'all');

/** Names a generation that copies kept in memory must drop. */
export interface RemovedGeneration {
  owner: string;
  id: string;
}

/**
 * The event type carrying one generation's (or one owner's) changes. Scaled out, it is also the
 * Redis channel, shared by instances of different versions during a rolling deploy: keep the format.
 */
export function topicOf(kind: (typeof Topic)[keyof typeof Topic], key: string): string {
  return `${kind}:${key}`;
}

/**
 * Events a slow subscriber may have unread before the oldest are dropped. Dropping is safe: each
 * event carries the whole generation, so the newest one supersedes what was lost. An unbounded
 * queue would let one stalled reader hold memory without limit.
 */
const SUBSCRIBER_BUFFER = 64;

/**
 * Events an owner-wide subscriber may have unread. Its events are about many generations, so none
 * supersedes another's: past this, a generation's older unread version gives way first (the reader
 * then skips to its newer one, whose `transitions` still list every status), and only a reader more
 * than this many generations behind loses one's oldest unread event. Each is a reference to a
 * generation every subscriber shares.
 */
const OWNER_SUBSCRIBER_BUFFER = 1_000;

/** Generations an owner-wide watcher remembers the last version of; the least recently changed go first. */
const OWNER_WATCH_TRACKED = 10_000;

/** How far before a gap an owner-wide catch-up reads, for clocks that differ between instances, in ms. */
const CLOCK_SKEW_MARGIN_MS = 5_000;

export class GenerationEvents {
  readonly target: EventTarget;
  /**
   * Local only: each live `watchGeneration`'s re-read, run when the event stream may have had a gap
   * (a Redis reconnect). A Set, not listeners on one EventTarget type: Node's EventTarget finds a
   * listener to remove by walking every listener of the type, which made ending N watchers O(N²).
   */
  private readonly resyncs = new Set<(gapStartedAt: Date) => void>();

  constructor(target: EventTarget = new EventTarget()) {
    this.target = target;
    // Many clients may watch one generation; the default cap of 10 listeners would only warn.
    if (target instanceof EventTarget) setMaxListeners(0, target); // a Redis-backed target has no such limit
  }

  /**
   * Tells every live watcher that events may have been missed since `gapStartedAt` (the transport
   * reconnected): a generation watcher re-reads its generation, an owner watcher the owner's
   * generations changed since the gap began, and each emits only what is newer than what it sent.
   * Default: the gap's start is unknown, so owner watchers read back to when they started.
   */
  resync(gapStartedAt: Date = new Date(0)): void {
    for (const reload of [...this.resyncs]) reload(gapStartedAt);
  }

  /**
   * Tells every instance, this one included, that `owner`'s generation `id` was deleted or changed
   * outside the poller, so that a copy of it kept in memory (an ended generation, read again and again)
   * is dropped rather than served on.
   */
  publishRemoved(removed: RemovedGeneration): void {
    this.target.dispatchEvent(new CustomEvent(REMOVED, { detail: { owner: removed.owner, id: removed.id } }));
  }

  /**
   * Calls `drop` for every generation named by publishRemoved on any instance, and `dropAll` after a
   * gap in the event stream (a Redis reconnect), when such messages may have been lost. Returns the
   * function that stops listening.
   */
  onRemoved(drop: (removed: RemovedGeneration) => void, dropAll: () => void): () => void {
    const listener = (event: Event) => drop((event as CustomEvent<RemovedGeneration>).detail);
    this.target.addEventListener(REMOVED, listener);
    this.resyncs.add(dropAll);
    return () => {
      this.target.removeEventListener(REMOVED, listener);
      this.resyncs.delete(dropAll);
    };
  }

  publish(generation: Generation): void {
    this.target.dispatchEvent(new CustomEvent(topicOf(Topic.generation, generation.id), { detail: generation }));
    this.target.dispatchEvent(new CustomEvent(topicOf(Topic.owner, generation.owner), { detail: generation }));
  }

  /**
   * The generation's current state, then every later version in order, ending after a terminal one.
   * It listens before it reads the snapshot, so a change landing in between is neither lost nor
   * doubled: anything at or below the last emitted version is skipped.
   */
  watchGeneration(owner: string, id: string, load: () => Promise<Generation | null>): AsyncIterableIterator<Generation> {
    const topic = topicOf(Topic.generation, id);
    const target = this.target;
    const resyncs = this.resyncs;
    return new EventStream<Generation>(SUBSCRIBER_BUFFER, (stream) => {
      let lastVersion = 0;
      let early: Generation[] | null = [];
      const emit = (g: Generation) => {
        if (g.owner !== owner || g.version <= lastVersion) return;
        lastVersion = g.version;
        stream.push(g);
        if (isSettled(g)) stream.end();
      };
      const listener = (event: Event) => {
        const g = (event as CustomEvent<Generation>).detail;
        if (early) early.push(g);
        else emit(g);
      };
      target.addEventListener(topic, listener);
      const reload = () => {
        load().then(
          (g) => {
            if (g && early) early.push(g);
            else if (g) emit(g);
          },
          () => undefined, // still unreachable: the next resync or event tries again
        );
      };
      resyncs.add(reload);

      load().then(
        (snapshot) => {
          if (snapshot) emit(snapshot);
          const queued = early!.sort((a, b) => a.version - b.version);
          early = null;
          queued.forEach(emit);
          if (!snapshot) stream.end();
        },
        (error: unknown) => stream.fail(error),
      );
      return () => {
        target.removeEventListener(topic, listener);
        resyncs.delete(reload);
      };
    });
  }

  /**
   * Every change to the owner's generations from now on, optionally only those with given statuses.
   * Each generation's versions come in order, none twice. With `changedSince`, a resync catches up
   * with what changed during the gap, read from the store.
   */
  watchOwner(
    owner: string,
    statuses?: readonly GenerationStatus[],
    changedSince?: (since: Date) => Promise<Generation[]>,
  ): AsyncIterableIterator<Generation> {
    const topic = topicOf(Topic.owner, owner);
    const target = this.target;
    const resyncs = this.resyncs;
    return new EventStream<Generation>(
      OWNER_SUBSCRIBER_BUFFER,
      (stream) => {
        const startedAt = Date.now();
        // The newest version seen per generation, so a catch-up never repeats what an event brought.
        const versions = new Map<string, number>();
        const offer = (g: Generation) => {
          if (g.owner !== owner || g.version <= (versions.get(g.id) ?? 0)) return;
          versions.delete(g.id); // re-inserted last: the map's order is least recently changed first
          versions.set(g.id, g.version);
          if (versions.size > OWNER_WATCH_TRACKED) versions.delete(versions.keys().next().value!);
          if (!statuses?.length || statuses.includes(g.status)) stream.push(g);
        };
        const listener = (event: Event) => offer((event as CustomEvent<Generation>).detail);
        target.addEventListener(topic, listener);
        const reload = (gapStartedAt: Date) => {
          // Other instances stamp updatedAt with their own clocks: read a little further back.
          const since = new Date(Math.max(startedAt, gapStartedAt.getTime()) - CLOCK_SKEW_MARGIN_MS);
          changedSince!(since).then(
            (changed) => changed.forEach(offer),
            () => undefined, // still unreachable: the next resync tries again
          );
        };
        if (changedSince) resyncs.add(reload);
        return () => {
          target.removeEventListener(topic, listener);
          resyncs.delete(reload);
        };
      },
      (g) => g.id,
    );
  }
}
