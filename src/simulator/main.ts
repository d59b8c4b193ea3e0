/**
 * `npm run simulator`: the simulator as a standalone process (settings: see `env.ts`).
 */
import { SimulatorEnvError, simulatorOptionsFromEnv } from './env';
import { startSimulator } from './server';

async function main(): Promise<void> {
  let options;
  try {
    options = simulatorOptionsFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof SimulatorEnvError)) throw err;
    console.error(`Invalid simulator configuration: ${err.message}`);
    process.exit(1);
  }
  const simulator = await startSimulator(options);
  console.log(`AI/ML API simulator listening on ${simulator.url}`);
  console.log(`API key: ${options.apiKey}   time scale: ${options.timeScale}   create status: ${options.createStatus}`);
  if (options.stateFile) console.log(`State file: ${options.stateFile}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, stopping`);
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('Simulator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
