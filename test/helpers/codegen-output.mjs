// Prints, as JSON, the files `npm run codegen` would write, without writing them. Runs as its own
// ES module process because @graphql-codegen/cli needs ESM-only packages (yargs) that Jest's
// CommonJS runtime cannot load.
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';

const { config } = await loadCodegenConfig({ configFilePath: 'codegen.ts' });
const outputs = await generate({ ...config, silent: true, verbose: false }, false);
process.stdout.write(JSON.stringify(outputs.map(({ filename, content }) => ({ filename, content }))));
