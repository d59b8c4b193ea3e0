import { GenerationStatus } from '../../../model/generation';

/** SQL list of the statuses of a generation not yet ended: the poll queue's and the quotas' rows. */
export const IN_FLIGHT = `('${GenerationStatus.QUEUED}', '${GenerationStatus.GENERATING}')`;
