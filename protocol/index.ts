export * from './alarm.ts';
export * from './control-chars.ts';
export * from './cursor.ts';
export * from './embedded.ts';
export * from './events.ts';
export * from './problem.ts';
export * from './token.ts';
export * from './web-url.ts';
