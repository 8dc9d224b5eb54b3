import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface CurlResult {
  status: number;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * The real curl binary, as ntfy users and shell scripts call it. Arguments go to curl as bytes, so
 * a header with non-ASCII text is sent as raw UTF-8, exactly as a shell would.
 */
export async function curl(args: string[]): Promise<CurlResult> {
  const { stdout } = await exec('curl', ['-sS', '-w', '\n%{http_code}', ...args], { maxBuffer: 1 << 24 });
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  const body = lines.join('\n');
  return { status, body, json: <T>() => JSON.parse(body) as T };
}
