import type { DesktopApi, UiState } from '../../client/desktop-api.ts';

declare global {
  interface Window {
    /** Exposed by main/preload.ts through contextBridge; provided by the test harness in browser tests. */
    tocsin: DesktopApi;
  }
}

export const api: DesktopApi = window.tocsin;

/** Keeps the header's status pill in step with the agent. */
export function bindStatus(): void {
  const pill = document.getElementById('status');
  if (pill === null) return;
  const render = (state: UiState) => {
    pill.dataset.status = state.connection.status;
    pill.textContent = state.connection.text;
    pill.title = state.server === null ? 'Not signed in' : `${state.server.user ?? ''} @ ${state.server.url}`;
  };
  void api.getState().then(render);
  api.onState(render);
}

/** Creates an element with text content only: nothing from an alarm is ever parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  children: (Node | null)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class !== undefined) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) if (child !== null) node.append(child);
  return node;
}
