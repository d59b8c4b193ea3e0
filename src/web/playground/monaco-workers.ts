/**
 * Monaco (GraphiQL's editor) runs its language services in web workers. They are bundled as
 * separate files by scripts/build-web.mjs and started from the gateway's own origin.
 */
const WORKERS: Record<string, string> = { json: 'json.worker.js', graphql: 'graphql.worker.js' };

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    return new Worker(`/playground/workers/${WORKERS[label] ?? 'editor.worker.js'}`, { name: label });
  },
};
