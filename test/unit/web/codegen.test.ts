import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../..');

describe('typed and persisted documents (codegen.ts)', () => {
  it('src/web/generated/ equals what `npm run codegen` writes from the committed schema and operations', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'test/helpers/codegen-output.mjs')], {
      cwd: ROOT, // codegen.ts paths are relative to the repository root
      env: { ...process.env, NODE_OPTIONS: '' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const outputs = JSON.parse(stdout) as Array<{ filename: string; content: string }>;
    expect(outputs.map((o) => path.relative(ROOT, path.resolve(ROOT, o.filename))).sort()).toEqual([
      'src/web/generated/gql.ts',
      'src/web/generated/graphql.ts',
      'src/web/generated/index.ts',
      // The operations as persisted documents (hash → document), for trusted-document modes (issue 17).
      'src/web/generated/persisted-documents.json',
    ]);
    const stale = outputs.filter((o) => readFileSync(path.resolve(ROOT, o.filename), 'utf8') !== o.content).map((o) => o.filename);
    if (stale.length) throw new Error(`stale generated files (run npm run codegen): ${stale.join(', ')}`);
  });
});
