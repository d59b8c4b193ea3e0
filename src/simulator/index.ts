/** The simulator's public surface. */
export { startSimulator, CREATE_PATH, LEGACY_PATH, type Simulator, type SimulatorOptions } from './server';
export type { SimulatorControl, SimulatorCounts, SimulatedJob } from './control';
export type { Fault, FaultAction, FaultEndpoint } from './faults';
export { DEFAULT_ERROR_BODY, CREDITS_PER_USD, type ForcedOutcome, type Usage } from './jobs';
export { SAMPLE_VIDEO_PATH } from './video';
export { simulatorOptionsFromEnv, SimulatorEnvError } from './env';
