import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultMaxConnections, serverOptions } from '../../../src/server/connection-limits';

const limitsFile = (softLimit: string) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'limits-')), 'limits');
  writeFileSync(
    file,
    [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             63499                63499                processes ',
      `Max open files            ${softLimit.padEnd(21)}1048576              files     `,
    ].join('\n'),
  );
  return file;
};

describe('defaultMaxConnections', () => {
  it('leaves room under the open-file limit for the reserved descriptors and the shed connections', () => {
    expect(defaultMaxConnections(limitsFile('1024'))).toBe(698); // (1024 - 256) / 1.1
    expect(defaultMaxConnections(limitsFile('1048576'))).toBe(953_018);
  });

  it('falls back to 10 000 where the limit cannot be read', () => {
    expect(defaultMaxConnections('/nonexistent/limits')).toBe(10_000);
    expect(defaultMaxConnections(limitsFile('unlimited'))).toBe(10_000);
  });
});

describe('serverOptions', () => {
  it("replaces Node's timeouts and checks them often enough to matter", () => {
    expect(serverOptions({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 })).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    });
  });
});
