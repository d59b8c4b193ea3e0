/** The simulator's public surface. */
export { startSimulator, CREATE_PATH, LEGACY_PATH, type Simulator, type SimulatorOptions } from './server';
export type { SimulatorControl, SimulatorCounts, SimulatedJob } from './control';
export type { Fault, FaultAction, FaultEndpoint } from './faults';
export type { ForcedOutcome } from './jobs';
export { DEFAULT_ERROR_BODY, PASS_THROUGH_ERROR_BODY } from './poll-quirks';
export { CREDITS_PER_USD, usdPerSecond, type Usage } from './prices';
export { VENDOR_MODEL_IDS, LEGACY_PATHS } from './vendor-specs';
export { SAMPLE_VIDEO_PATH } from './video';
export { simulatorOptionsFromEnv, SimulatorEnvError } from './env';
