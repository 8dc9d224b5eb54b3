import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './port.ts';
import { requirement } from './requirements.ts';

export const NGINX_PATH = process.env.TOCSIN_NGINX ?? '/usr/sbin/nginx';

/** Why nginx tests cannot run here, or null. On CI a missing nginx fails: .ci/run installs it. */
export function nginxUnavailable(): string | null {
  return requirement(
    'proxy tests',
    existsSync(NGINX_PATH)
      ? null
      : `nginx not found at ${NGINX_PATH} (Debian: apt-get install nginx-light; Fedora: dnf install nginx; macOS: brew install nginx; or set TOCSIN_NGINX)`,
  );
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Default 1; the bench runs more so nginx is not the bottleneck it measures through. */
  workerProcesses?: number;
  /** Per worker (default 1024); a proxied stream holds two (client and upstream). */
  workerConnections?: number;
}

/**
 * A private nginx on a free loopback port. `http` gives what goes inside its http{} context (server
 * and upstream blocks) for the port it listens on; temp paths, pid and logs stay in a temp dir.
 */
export async function startNginx(http: (port: number) => string, options: NginxOptions = {}): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-nginx-'));
  const port = await freePort();
  const conf = `
daemon off;
worker_processes ${options.workerProcesses ?? 1};
${options.workerConnections === undefined ? '' : `worker_rlimit_nofile ${2 * options.workerConnections + 64};`}
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections ${options.workerConnections ?? 1024}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http(port)}
}`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** nginx as a reverse proxy in front of `upstream`, with nginx's default proxy settings. */
export function startReverseProxy(upstream: string): Promise<Nginx> {
  return startNginx(
    (port) => `
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
  );
}
