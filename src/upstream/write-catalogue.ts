/**
 * `npm run catalogue`: rewrites the generated catalogue and wire map from the vendor's specs.
 * Run it after replacing `vendor/aimlapi-video-specs.json` or editing the derivation or overlay.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderGenerated, type VendorSpecs } from './catalogue-derivation';
import specs from './vendor/aimlapi-video-specs.json';

// npm runs scripts from the package root.
const dir = join(process.cwd(), 'src', 'upstream');
const { catalogue, wireMap } = renderGenerated(specs as unknown as VendorSpecs);
writeFileSync(join(dir, 'catalogue.generated.ts'), catalogue);
writeFileSync(join(dir, 'wire-map.generated.ts'), wireMap);
process.stdout.write(`catalogue: wrote ${dir}/catalogue.generated.ts and wire-map.generated.ts\n`);
