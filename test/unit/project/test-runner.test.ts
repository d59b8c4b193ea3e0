/**
 * `npm run test:jest` runs Jest, and through it every worker, with V8's --no-wasm-code-gc: without it,
 * the embedded stores opened and closed in one test process abort it now and then on Node 24
 * (docs/architecture.md, Tests).
 */
test('jest runs with wasm code GC off, as the test:jest script starts it', () => {
  expect({ execArgv: process.execArgv, hint: 'run the tests with `npm run test:jest -- <files>`' }).toEqual(
    expect.objectContaining({ execArgv: expect.arrayContaining(['--no-wasm-code-gc']) }),
  );
});
