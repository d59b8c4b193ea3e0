/**
 * Generation change events: one topic per generation and one per owner.
 *
 * Publishing goes through type-graphql's pubsub (`@graphql-yoga/subscription`) over an
 * EventTarget, so a Redis-backed EventTarget can replace the in-process one when scaled out.
 * Pub/sub may drop messages; subscribers are made whole by the snapshot-then-versions rule in
 * `watchGeneration`, not by trusting delivery.
 */
import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import { EventStream } from './event-stream';
import { isTerminal, type Generation, type GenerationStatus } from './types';

export const Topic = {
  generation: 'GENERATION',
  owner: 'OWNER',
} as const;

type Channels = {
  [Topic.generation]: [id: string, payload: Generation];
  [Topic.owner]: [owner: string, payload: Generation];
};

/**
 * Events a slow subscriber may have unread before the oldest are dropped. Dropping is safe: each
 * event carries the whole generation, so the newest one supersedes what was lost. An unbounded
 * queue would let one stalled reader hold memory without limit.
 */
const SUBSCRIBER_BUFFER = 64;

export class GenerationEvents {
  readonly target: EventTarget;
  readonly pubSub;
  /**
   * Local only: each live `watchGeneration`'s re-read, run when the event stream may have had a gap
   * (a Redis reconnect). A Set, not listeners on one EventTarget type: Node's EventTarget finds a
   * listener to remove by walking every listener of the type, which made ending N watchers O(N²).
   */
  private readonly resyncs = new Set<() => void>();

  constructor(target: EventTarget = new EventTarget()) {
    this.target = target;
    // Many clients may watch one generation; the default cap of 10 listeners would only warn.
    if (target instanceof EventTarget) setMaxListeners(0, target); // a Redis-backed target has no such limit
    this.pubSub = createPubSub<Channels>({ eventTarget: target });
  }

  /**
   * Tells every live `watchGeneration` that events may have been missed (the transport reconnected):
   * each re-reads its generation and emits it if it is newer than what it last sent.
   */
  resync(): void {
    for (const reload of [...this.resyncs]) reload();
  }

  publish(generation: Generation): void {
    this.pubSub.publish(Topic.generation, generation.id, generation);
    this.pubSub.publish(Topic.owner, generation.owner, generation);
  }

  /**
   * The generation's current state, then every later version in order, ending after a terminal one.
   * It listens before it reads the snapshot, so a change landing in between is neither lost nor
   * doubled: anything at or below the last emitted version is skipped.
   */
  watchGeneration(owner: string, id: string, load: () => Promise<Generation | null>): AsyncIterableIterator<Generation> {
    const topic = `${Topic.generation}:${id}`;
    const target = this.target;
    const resyncs = this.resyncs;
    return new EventStream<Generation>(SUBSCRIBER_BUFFER, (stream) => {
      let lastVersion = 0;
      let early: Generation[] | null = [];
      const emit = (g: Generation) => {
        if (g.owner !== owner || g.version <= lastVersion) return;
        lastVersion = g.version;
        stream.push(g);
        if (isTerminal(g.status)) stream.end();
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

  /** Every change to the owner's generations from now on, optionally only those with given statuses. */
  watchOwner(owner: string, statuses?: readonly GenerationStatus[]): AsyncIterableIterator<Generation> {
    const topic = `${Topic.owner}:${owner}`;
    const target = this.target;
    return new EventStream<Generation>(SUBSCRIBER_BUFFER, (stream) => {
      const listener = (event: Event) => {
        const g = (event as CustomEvent<Generation>).detail;
        if (g.owner === owner && (!statuses?.length || statuses.includes(g.status))) stream.push(g);
      };
      target.addEventListener(topic, listener);
      return () => target.removeEventListener(topic, listener);
    });
  }
}
