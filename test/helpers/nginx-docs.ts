import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The first ```nginx block between `<!-- NAME:start -->` and `<!-- NAME:end -->` of a docs page: the
 * config users copy, run by the tests as it is written.
 */
export async function docsNginxBlock(page: string, name: string): Promise<string> {
  const path = fileURLToPath(new URL(`../../docs/${page}`, import.meta.url));
  const text = await readFile(path, 'utf8');
  const section = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(text)?.[1] ?? '';
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`docs/${page} has no nginx block between ${name} markers`);
  return block;
}

/** Locations that put the compatibility test page (test/helpers/compat-clients.ts) on nginx's origin. */
export function pageLocations(pageHost: string): string {
  return `
    location = /app { proxy_pass http://${pageHost}; }
    location = /harness.js { proxy_pass http://${pageHost}; }
    location /lib/ { proxy_pass http://${pageHost}; }`;
}
