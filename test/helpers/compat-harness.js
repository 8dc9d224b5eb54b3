// Runs inside Chromium: opens one stream with the client library under test and records what the
// page's code sees. Each client gets the options docs/api.md lists for it, nothing more.
/* global EventSourcePolyfill */
(() => {
  const rec = {
    alarms: [],
    opens: 0,
    readies: 0,
    errors: 0,
    empty: 0,
    closed: false,
    failure: null,
  };
  let stop = () => {};

  function onAlarm(id, data) {
    const alarm = JSON.parse(data);
    rec.alarms.push({ id, title: alarm.title });
  }

  // The native EventSource and the polyfill share the EventSource interface.
  function eventSourceLike(source) {
    source.addEventListener('open', () => {
      rec.opens++;
    });
    source.addEventListener('ready', () => {
      rec.readies++;
    });
    source.addEventListener('alarm', (event) => onAlarm(event.lastEventId, event.data));
    // Unnamed messages: Tocsin sends none, so anything here is a client surfacing noise.
    source.addEventListener('message', () => {
      rec.empty++;
    });
    source.addEventListener('error', (event) => {
      rec.errors++;
      if (source.readyState === 2) {
        rec.closed = true;
        rec.failure = event.status === undefined ? 'closed' : `status ${event.status}`;
      }
    });
    stop = () => source.close();
  }

  async function fetchEventSourceClient(url, token) {
    const { fetchEventSource } = await import('/lib/fetch-event-source/index.js');
    // The options docs/api.md lists, from the same module the Node suite imports.
    const { tocsinStreamOptions } = await import('/lib/fetch-event-source-options.js');
    const controller = new AbortController();
    stop = () => controller.abort();
    const sink = {
      opened: () => {
        rec.opens++;
      },
      alarm: onAlarm,
      ready: () => {
        rec.readies++;
      },
      other: () => {
        rec.empty++;
      },
      error: () => {
        rec.errors++;
      },
    };
    fetchEventSource(url, tocsinStreamOptions(token, controller.signal, sink)).catch((error) => {
      rec.closed = true;
      rec.failure = String(error.message ?? error);
    });
  }

  globalThis.compat = {
    rec,
    async open(kind, url, token) {
      if (kind === 'native') {
        const withToken = new URL(url);
        withToken.searchParams.set('access_token', token);
        eventSourceLike(new EventSource(withToken));
      } else if (kind === 'polyfill') {
        eventSourceLike(new EventSourcePolyfill(url, { headers: { Authorization: `Bearer ${token}` } }));
      } else if (kind === 'fetch-event-source') {
        await fetchEventSourceClient(url, token);
      } else {
        throw new Error(`unknown client ${kind}`);
      }
    },
    close() {
      stop();
    },
  };
})();
