import { Message } from 'dbus-next';
import { connectSessionBus } from './notifier-dbus.ts';

/**
 * The one question keytar cannot answer: is there an item for these attributes that a locked
 * collection hides? libsecret returns "nothing" for a locked item when nobody can answer an unlock
 * prompt, so a locked keyring looks empty; the Secret Service's SearchItems lists locked matches
 * separately (their attributes stay searchable while locked).
 *
 * Resolves to the number of locked matches, or null when the Secret Service cannot be asked (not
 * Linux, no session bus, no service): the caller then keeps keytar's answer.
 */
export async function countLockedSecrets(
  attributes: Readonly<Record<string, string>>,
  options: { busAddress: string | undefined; timeoutMs: number },
): Promise<number | null> {
  if (process.platform !== 'linux' || options.busAddress === undefined || options.busAddress === '')
    return null;
  let bus: ReturnType<typeof connectSessionBus>;
  try {
    bus = connectSessionBus(options.busAddress);
  } catch {
    return null;
  }
  bus.on('error', () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const call = bus.call(
      new Message({
        destination: 'org.freedesktop.secrets',
        path: '/org/freedesktop/secrets',
        interface: 'org.freedesktop.Secret.Service',
        member: 'SearchItems',
        signature: 'a{ss}',
        body: [{ ...attributes }],
      }),
    );
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), options.timeoutMs);
    });
    const reply = await Promise.race([call, timeout]);
    const locked = reply?.body?.[1];
    return Array.isArray(locked) ? locked.length : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    bus.disconnect();
  }
}
