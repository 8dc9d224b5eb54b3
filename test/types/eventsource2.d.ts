// eventsource@2 (installed as the npm alias eventsource2) ships no types; just what the tests use.
declare module 'eventsource2' {
  interface MessageEventLike {
    data: string;
    lastEventId: string;
    status?: number;
  }
  class EventSource {
    constructor(url: string, init?: { headers?: Record<string, string> });
    readonly readyState: number;
    onopen: (() => void) | null;
    onerror: ((event: MessageEventLike) => void) | null;
    addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
    close(): void;
  }
  export = EventSource;
}
