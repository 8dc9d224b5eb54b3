export * from './alarm.ts';
export * from './events.ts';
export * from './problem.ts';
