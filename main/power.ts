import { net, powerMonitor } from 'electron';
import { PowerEventHub } from '../client/power.ts';

/**
 * System sleep and network changes for the agent. powerMonitor's suspend/resume need logind on
 * Linux; where they never come, the agent's own timer-drift detection still notices a sleep.
 */
export function electronPowerEvents(): { events: PowerEventHub; dispose: () => void } {
  const events = new PowerEventHub();
  const onSuspend = () => events.emit('suspend');
  const onResume = () => events.emit('resume');
  powerMonitor.on('suspend', onSuspend);
  powerMonitor.on('resume', onResume);
  // Unlocking usually follows a wake; a reconnect then costs nothing if the stream is fine.
  powerMonitor.on('unlock-screen', onResume);
  let online = net.isOnline();
  const poll = setInterval(() => {
    const now = net.isOnline();
    if (now !== online) events.emit(now ? 'online' : 'offline');
    online = now;
  }, 5_000);
  return {
    events,
    dispose: () => {
      clearInterval(poll);
      powerMonitor.off('suspend', onSuspend);
      powerMonitor.off('resume', onResume);
      powerMonitor.off('unlock-screen', onResume);
    },
  };
}
