import EventSource2 from 'eventsource2';
import { EventSource as EventSource3 } from 'eventsource3';
import { EventSource as EventSource5 } from 'eventsource5';
import { EventSource as ExtendedEventSource } from 'extended-eventsource';
import { Agent } from '../../client/agent.ts';
import { type ClientDriver, type ClientRecord, emptyRecord } from './compat-clients.ts';

type Listener = (event: { data: string; lastEventId: string }) => void;

interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: Listener): void;
  close(): void;
}

/** Records what an EventSource-shaped client delivers (the same listeners the browser harness uses). */
function record(source: EventSourceLike, rec: ClientRecord): void {
  source.addEventListener('open', () => {
    rec.opens++;
  });
  source.addEventListener('ready', () => {
    rec.readies++;
  });
  source.addEventListener('alarm', (event) => {
    rec.alarms.push({ id: event.lastEventId, title: (JSON.parse(event.data) as { title: string }).title });
  });
  source.addEventListener('message', () => {
    rec.empty++;
  });
  source.addEventListener('error', (event) => {
    rec.errors++;
    const status = (event as { status?: number; code?: number }).status ?? (event as { code?: number }).code;
    // eventsource 2 emits the error first and closes right after: look once it is done.
    setTimeout(() => {
      if (source.readyState === 2 && !rec.closed) {
        rec.closed = true;
        rec.failure = status === undefined ? 'closed' : `status ${status}`;
      }
    }, 0);
  });
}

function handle(source: EventSourceLike, rec: ClientRecord) {
  return {
    state: async () => structuredClone(rec),
    close: async () => source.close(),
  };
}

/** eventsource@2: takes headers directly. */
export const eventsource2: ClientDriver = {
  name: 'eventsource 2',
  async open(url, token) {
    const rec = emptyRecord();
    const source = new EventSource2(url, { headers: { Authorization: `Bearer ${token}` } });
    record(source as unknown as EventSourceLike, rec);
    return handle(source as unknown as EventSourceLike, rec);
  },
};

/** eventsource@3 and @5: headers go through the `fetch` option (the documented way). */
function fetchBased(name: string, Ctor: typeof EventSource3 | typeof EventSource5): ClientDriver {
  return {
    name,
    async open(url, token) {
      const rec = emptyRecord();
      const source = new Ctor(url, {
        fetch: (input, init) =>
          fetch(input, { ...init, headers: { ...init?.headers, Authorization: `Bearer ${token}` } }),
      });
      record(source as unknown as EventSourceLike, rec);
      return handle(source as unknown as EventSourceLike, rec);
    },
  };
}

export const eventsource3 = fetchBased('eventsource 3', EventSource3);
export const eventsource5 = fetchBased('eventsource 5', EventSource5);

/** extended-eventsource: takes headers directly; its console logger is silenced (optional). */
export const extendedEventsource: ClientDriver = {
  name: 'extended-eventsource',
  async open(url, token) {
    const rec = emptyRecord();
    const source = new ExtendedEventSource(url, {
      headers: { Authorization: `Bearer ${token}` },
      disableLogger: true,
    });
    record(source as unknown as EventSourceLike, rec);
    return handle(source as unknown as EventSourceLike, rec);
  },
};

/**
 * Tocsin's own agent (client/agent.ts), with its cursor in memory. Only its backoff is shortened, so
 * the restart check stays well within the test's waits (the default cap is 10 s).
 */
export const tocsinAgent: ClientDriver = {
  name: 'Tocsin agent',
  async open(streamUrl, token) {
    const url = new URL(streamUrl);
    const topics = (url.searchParams.get('topics') ?? '').split(',').filter((t) => t !== '');
    const rec = emptyRecord();
    const agent = new Agent({
      server: url.origin,
      token,
      topics,
      backoff: { baseMs: 200, capMs: 2_000 },
      sleepDetection: false,
    });
    agent.on('ready', () => {
      rec.readies++;
    });
    agent.on('alarm', (alarm) => {
      rec.alarms.push({ id: alarm.id, title: alarm.title });
    });
    agent.on('state', (state) => {
      if (state.status === 'live') rec.opens++;
      else if (state.status === 'reconnecting') rec.errors++;
      else if (state.status === 'auth-required' || state.status === 'stopped') {
        rec.errors++;
        rec.closed = true;
        rec.failure = state.reason === 'unauthorized' ? 'status 401' : state.reason;
      }
    });
    void agent.start();
    return { state: async () => structuredClone(rec), close: () => agent.stop() };
  },
};
