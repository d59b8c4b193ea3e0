import { simulatorOptionsFromEnv, startSimulator } from '../../../src/simulator';

describe('simulatorOptionsFromEnv', () => {
  it('has defaults', () => {
    expect(simulatorOptionsFromEnv({})).toEqual({
      port: 4010,
      host: '127.0.0.1',
      apiKey: 'sim-key',
      timeScale: 1,
      createStatus: 201,
      fileLinkTtlSeconds: 3600,
    });
  });

  it('reads every variable', () => {
    expect(
      simulatorOptionsFromEnv({
        SIMULATOR_PORT: '0',
        SIMULATOR_API_KEY: 'k',
        SIMULATOR_TIME_SCALE: '0.01',
        SIMULATOR_CREATE_STATUS: '200',
        SIMULATOR_STATE_FILE: '/tmp/s.json',
        SIMULATOR_SEED: 'x',
        SIMULATOR_PUBLIC_URL: 'http://sim:4010',
        SIMULATOR_FILE_LINK_TTL_SECONDS: '60',
        SIMULATOR_VIDEO_BYTES: '209715200',
      }),
    ).toMatchObject({
      port: 0,
      apiKey: 'k',
      timeScale: 0.01,
      createStatus: 200,
      stateFile: '/tmp/s.json',
      seed: 'x',
      publicUrl: 'http://sim:4010',
      fileLinkTtlSeconds: 60,
      videoBytes: 209_715_200,
    });
  });

  it.each([
    ['SIMULATOR_PORT', 'abc'],
    ['SIMULATOR_PORT', '70000'],
    ['SIMULATOR_TIME_SCALE', '0'],
    ['SIMULATOR_TIME_SCALE', 'fast'],
    ['SIMULATOR_CREATE_STATUS', '202'],
    ['SIMULATOR_PUBLIC_URL', 'sim:4010'],
    ['SIMULATOR_FILE_LINK_TTL_SECONDS', '0'],
    ['SIMULATOR_VIDEO_BYTES', '0'],
    ['SIMULATOR_VIDEO_BYTES', '200MB'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => simulatorOptionsFromEnv({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});

describe('startSimulator options', () => {
  it.each([
    [{ apiKey: '' }, /apiKey/],
    [{ apiKey: 'k', timeScale: 0 }, /timeScale/],
    [{ apiKey: 'k', port: -1 }, /port/],
    [{ apiKey: 'k', createStatus: 202 as 201 }, /createStatus/],
    [{ apiKey: 'k', fileLinkTtlSeconds: 0 }, /fileLinkTtlSeconds/],
    [{ apiKey: 'k', videoBytes: 1.5 }, /videoBytes/],
  ])('rejects %o', async (options, message) => {
    await expect(startSimulator(options)).rejects.toThrow(message);
  });
});
