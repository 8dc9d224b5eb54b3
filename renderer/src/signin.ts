import type { SignInErrorCode } from '../../client/desktop/api.ts';
import { stripControlChars } from '../../protocol/control-chars.ts';
import { api, bindStatus, el } from './api.ts';

const HINTS: Record<SignInErrorCode, string> = {
  'invalid-url': 'Enter the server address, e.g. https://alarms.example.com or http://127.0.0.1:8080.',
  unreachable: 'Tocsin could not reach that server. Check the address and your network.',
  'bad-token': 'The server did not accept this token. Ask its admin for a subscribe token.',
  forbidden: 'This token may not subscribe. Use a token with the subscribe scope.',
  'keychain-unavailable': 'The system keychain is not available, so the token cannot be stored safely.',
};

function render(root: HTMLElement): void {
  const url = el('input', {
    attrs: {
      id: 'server-url',
      type: 'url',
      required: '',
      placeholder: 'https://alarms.example.com',
      autocomplete: 'url',
    },
  });
  const token = el('input', {
    attrs: {
      id: 'token',
      type: 'password',
      required: '',
      placeholder: 'tcs_…',
      autocomplete: 'off',
      spellcheck: 'false',
    },
  });
  const submit = el('button', { text: 'Sign in', attrs: { type: 'submit', id: 'sign-in' } });
  const message = el('p', { class: 'message', attrs: { id: 'message', role: 'alert' } });
  const form = el('form', { class: 'card', attrs: { novalidate: '' } }, [
    el('h1', { text: 'Sign in to a Tocsin server' }),
    el('label', { text: 'Server address', attrs: { for: 'server-url' } }),
    url,
    el('label', { text: 'Token', attrs: { for: 'token' } }),
    token,
    el('p', {
      class: 'hint',
      text: 'The token is checked with the server, then kept in your system keychain — never in a file.',
    }),
    submit,
    message,
  ]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    message.dataset.kind = '';
    submit.disabled = true;
    submit.textContent = 'Checking…';
    try {
      const result = await api.signIn({ serverUrl: url.value.trim(), token: token.value.trim() });
      if (result.ok) {
        token.value = '';
        message.dataset.kind = 'ok';
        message.textContent = stripControlChars(
          `Signed in as ${result.user}. Alarms will appear as notifications.`,
        );
      } else {
        message.dataset.kind = 'error';
        message.dataset.code = result.code;
        message.textContent = stripControlChars(`${result.message} ${HINTS[result.code]}`);
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  root.append(form);
}

bindStatus();
render(document.getElementById('app') as HTMLElement);
