import { afterAll, beforeAll, describe } from 'vitest';
import { compatibilityChecks } from '../helpers/compat-checks.ts';
import {
  eventsource2,
  eventsource3,
  eventsource5,
  extendedEventsource,
  tocsinAgent,
} from '../helpers/compat-node-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The `eventsource` package (three major versions people run) and extended-eventsource, given only
 * the token, and Tocsin's own agent held to the same checks.
 */
describe('Node clients against Tocsin', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ heartbeatMs: 250, retryMs: 300 });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  for (const driver of [eventsource2, eventsource3, eventsource5, extendedEventsource, tocsinAgent]) {
    describe(driver.name, () => {
      compatibilityChecks(driver, {
        server: () => server,
        streamUrl: (topic) => `${server.url}/v1/stream?topics=${topic}`,
      });
    });
  }
});
