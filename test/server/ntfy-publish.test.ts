import { NtfyClient, publish as ntfyPublish } from 'ntfy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, Problem } from '../../protocol/index.ts';
import { curl } from '../helpers/curl.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let auth: string[];
beforeAll(async () => {
  server = await startTestServer();
  auth = ['-H', `Authorization: Bearer ${server.adminToken}`];
});
afterAll(async () => {
  await server.dispose();
});

async function history(topic: string): Promise<Alarm[]> {
  const response = await fetch(`${server.url}/v1/alarms?topics=${topic}&limit=1000`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { alarms: Alarm[] }).alarms;
}

/** The one alarm a test published on its own topic. */
async function only(topic: string): Promise<Alarm> {
  const alarms = await history(topic);
  expect(alarms).toHaveLength(1);
  return alarms[0] as Alarm;
}

describe('ntfy publish: ntfy’s documented examples, sent with real curl', () => {
  it('the headline example (title, urgent priority, tags)', async () => {
    const result = await curl([
      ...auth,
      '-H',
      'Title: Unauthorized access detected',
      '-H',
      'Priority: urgent',
      '-H',
      'Tags: warning,skull',
      '-d',
      'Remote access to phils-laptop detected. Act right away.',
      `${server.url}/phil_alerts`,
    ]);
    expect(result.status).toBe(200);
    const answer = result.json();
    expect(answer).toMatchObject({
      event: 'message',
      topic: 'phil_alerts',
      title: 'Unauthorized access detected',
      message: 'Remote access to phils-laptop detected. Act right away.',
      priority: 5,
      tags: ['warning', 'skull'],
    });
    expect(answer.expires).toBeGreaterThan(answer.time as number);
    expect(await only('phil_alerts')).toMatchObject({
      id: answer.id,
      priority: 5,
      tags: ['warning', 'skull'],
    });
  });

  it.each([
    ['X-Title', 'title_x'],
    ['Title', 'title_plain'],
    ['t', 'title_t'],
  ])('title through the %s alias', async (header, topic) => {
    const result = await curl([
      ...auth,
      '-H',
      `${header}: Dogs are better than cats`,
      '-d',
      'Oh my ...',
      `${server.url}/${topic}`,
    ]);
    expect(result.status).toBe(200);
    expect(await only(topic)).toMatchObject({ title: 'Dogs are better than cats', body: 'Oh my ...' });
  });

  it.each([
    ['X-Priority: 5', 5, 'prio_a'],
    ['Priority: low', 2, 'prio_b'],
    ['p:4', 4, 'prio_c'],
    ['prio: max', 5, 'prio_d'],
    ['Priority: min', 1, 'prio_e'],
  ] as const)('priority %s', async (header, priority, topic) => {
    const result = await curl([...auth, '-H', header, '-d', 'x', `${server.url}/${topic}`]);
    expect(result.status).toBe(200);
    expect((await only(topic)).priority).toBe(priority);
  });

  it.each([
    ['X-Tags: warning,mailsrv13,daily-backup', ['warning', 'mailsrv13', 'daily-backup'], 'tags_a'],
    ['Tags: horse,unicorn', ['horse', 'unicorn'], 'tags_b'],
    ['ta:dog', ['dog'], 'tags_c'],
    ['Tag: a, b ,,c', ['a', 'b', 'c'], 'tags_d'],
  ] as const)('tags %s', async (header, tags, topic) => {
    await curl([...auth, '-H', header, '-d', 'x', `${server.url}/${topic}`]);
    expect((await only(topic)).tags).toEqual(tags);
  });

  it('a webhook: GET /{topic}/publish with everything in the query', async () => {
    const result = await curl([
      ...auth,
      `${server.url}/mywebhook/publish?message=Webhook+triggered&priority=high&tags=warning,skull`,
    ]);
    expect(result.status).toBe(200);
    expect(await only('mywebhook')).toMatchObject({
      body: 'Webhook triggered',
      priority: 4,
      tags: ['warning', 'skull'],
    });
  });

  it.each(['send', 'trigger'])('GET /{topic}/%s with no message says "triggered"', async (verb) => {
    const result = await curl([...auth, `${server.url}/hook_${verb}/${verb}`]);
    expect(result.status).toBe(200);
    expect(result.json()).toMatchObject({ message: 'triggered' });
    expect((await only(`hook_${verb}`)).body).toBe('triggered');
  });

  it('query parameters on PUT/POST, ntfy’s short aliases included (?t= ?p= ?ta= ?m=)', async () => {
    const result = await curl([
      ...auth,
      '-X',
      'POST',
      `${server.url}/query_params?t=From+the+query&p=5&ta=a,b&m=line1\\nline2`,
    ]);
    expect(result.status).toBe(200);
    expect(await only('query_params')).toMatchObject({
      title: 'From the query',
      priority: 5,
      tags: ['a', 'b'],
      body: 'line1\nline2',
    });
  });

  it('a header wins over the query parameter; X-Message is used when the body is empty', async () => {
    await curl([
      ...auth,
      '-X',
      'PUT',
      '-H',
      'X-Title: header',
      '-H',
      'X-Message: from header',
      `${server.url}/precedence?title=query`,
    ]);
    expect(await only('precedence')).toMatchObject({ title: 'header', body: 'from header' });
  });

  it('JSON publish to POST / (the docs example with attachment, click and a view action)', async () => {
    const result = await curl([
      ...auth,
      server.url,
      '-d',
      JSON.stringify({
        topic: 'json_topic',
        message: 'Disk space is low at 5.1 GB',
        title: 'Low disk space alert',
        tags: ['warning', 'cd'],
        priority: 4,
        attach: 'https://filesrv.lan/space.jpg',
        filename: 'diskspace.jpg',
        click: 'https://homecamera.lan/xasds1h2xsSsa/',
        actions: [{ action: 'view', label: 'Admin panel', url: 'https://filesrv.lan/admin' }],
      }),
    ]);
    expect(result.status).toBe(200);
    expect(result.json()).toMatchObject({
      topic: 'json_topic',
      title: 'Low disk space alert',
      attachment: { name: 'diskspace.jpg', url: 'https://filesrv.lan/space.jpg' },
      actions: [{ action: 'view', label: 'Admin panel', url: 'https://filesrv.lan/admin' }],
    });
    expect(await only('json_topic')).toMatchObject({
      title: 'Low disk space alert',
      body: 'Disk space is low at 5.1 GB',
      priority: 4,
      tags: ['warning', 'cd'],
      url: 'https://homecamera.lan/xasds1h2xsSsa/',
      attachment: { name: 'diskspace.jpg', url: 'https://filesrv.lan/space.jpg' },
      actions: [{ action: 'view', label: 'Admin panel', url: 'https://filesrv.lan/admin' }],
    });
  });

  it('JSON publish: the http action with a JSON body and the broadcast action with extras', async () => {
    const result = await curl([
      ...auth,
      '-X',
      'PUT',
      server.url,
      '-d',
      JSON.stringify({
        topic: 'json_actions',
        message: 'You left the house. Turn down the A/C?',
        actions: [
          { action: 'http', label: 'Turn down', url: 'https://api.nest.com/', body: '{"temperature": 65}' },
          { action: 'broadcast', label: 'Take picture', extras: { cmd: 'pic', camera: 'front' } },
        ],
      }),
    ]);
    expect(result.status).toBe(200);
    expect((await only('json_actions')).actions).toEqual([
      {
        action: 'http',
        label: 'Turn down',
        url: 'https://api.nest.com/',
        method: 'POST',
        body: '{"temperature": 65}',
      },
      { action: 'broadcast', label: 'Take picture', extras: { cmd: 'pic', camera: 'front' } },
    ]);
  });

  it('JSON publish without a topic, or not JSON at all, is a 400', async () => {
    for (const body of ['{"message":"no topic"}', 'not json', '{"topic":"bad topic!"}']) {
      const result = await curl([...auth, server.url, '-d', body]);
      expect(result.status).toBe(400);
      expect(result.json<Problem>().code).toBe('bad-request');
    }
  });

  it('actions in the short form: view + http with a quoted body, as in the docs', async () => {
    const result = await curl([
      ...auth,
      '-d',
      'You left the house. Turn down the A/C?',
      '-H',
      `Actions: view, Open portal, https://home.nest.com/, clear=true; \
                     http, Turn down, https://api.nest.com/, body='{"temperature": 65}'`,
      `${server.url}/short_actions`,
    ]);
    expect(result.status).toBe(200);
    expect((await only('short_actions')).actions).toEqual([
      { action: 'view', label: 'Open portal', url: 'https://home.nest.com/', clear: true },
      {
        action: 'http',
        label: 'Turn down',
        url: 'https://api.nest.com/',
        method: 'POST',
        body: '{"temperature": 65}',
      },
    ]);
  });

  it('actions in the short form: http with method, headers.* and body', async () => {
    await curl([
      ...auth,
      '-d',
      'Garage door has been open for 15 minutes. Close it?',
      '-H',
      'Actions: http, Close door, https://api.mygarage.lan/, method=PUT, headers.Authorization=Bearer zAzsx1sk.., body={"action": "close"}',
      `${server.url}/garage`,
    ]);
    // ntfy's grammar splits an unquoted body at its comma-free end: the whole JSON object survives.
    expect((await only('garage')).actions).toEqual([
      {
        action: 'http',
        label: 'Close door',
        url: 'https://api.mygarage.lan/',
        method: 'PUT',
        headers: { Authorization: 'Bearer zAzsx1sk..' },
        body: '{"action": "close"}',
      },
    ]);
  });

  it('actions in the short form: broadcast with extras', async () => {
    await curl([
      ...auth,
      '-d',
      'Your wife requested you send a picture of yourself.',
      '-H',
      'Actions: broadcast, Take picture, extras.cmd=pic, extras.camera=front',
      `${server.url}/wifey`,
    ]);
    expect((await only('wifey')).actions).toEqual([
      { action: 'broadcast', label: 'Take picture', extras: { cmd: 'pic', camera: 'front' } },
    ]);
  });

  it.each([
    ['Actions: dance, Go', 'act_bad1'],
    ['Actions: view, No URL', 'act_bad2'],
    [
      'Actions: view, a, https://a.test; view, b, https://b.test; view, c, https://c.test; view, d, https://d.test',
      'act_bad3',
    ],
    ['Actions: http, Get, https://x.test, method=GET, body=nope', 'act_bad4'],
    ['Actions: view, "unterminated, https://x.test', 'act_bad5'],
    ['Actions: view, Open, javascript:alert(1)', 'act_bad6'],
  ])('a malformed action (%s) is a 400 and nothing is stored', async (header, topic) => {
    const result = await curl([...auth, '-H', header, '-d', 'x', `${server.url}/${topic}`]);
    expect(result.status).toBe(400);
    expect(result.json<Problem>().code).toBe('bad-request');
    expect(await history(topic)).toEqual([]);
  });

  it('Click: any scheme ntfy allows (mailto:, geo:), never javascript: or file:', async () => {
    for (const [click, topic] of [
      ['mailto:phil@example.com', 'click_mailto'],
      ['geo:0,0?q=1600+Amphitheatre+Parkway', 'click_geo'],
      ['https://www.reddit.com/message/messages', 'click_https'],
    ]) {
      const result = await curl([
        ...auth,
        '-H',
        `Click: ${click}`,
        '-d',
        'New messages on Reddit',
        `${server.url}/${topic}`,
      ]);
      expect(result.status).toBe(200);
      expect(result.json()).toMatchObject({ click });
      expect((await only(topic as string)).url).toBe(click);
    }
    const refused = await curl([
      ...auth,
      '-H',
      'Click: javascript:alert(1)',
      '-d',
      'x',
      `${server.url}/click_js`,
    ]);
    expect(refused.status).toBe(400);
  });

  it('Icon, Markdown (and Content-Type: text/markdown)', async () => {
    await curl([
      ...auth,
      '-H',
      'Icon: https://styles.redditmedia.com/t5_32uhe/styles/communityIcon_xnt6chtnr2j21.png',
      '-H',
      'Title: Kodi: Resuming Playback',
      '-H',
      'Tags: arrow_forward',
      '-d',
      'The Wire, S01E01',
      `${server.url}/tvshows`,
    ]);
    expect((await only('tvshows')).icon).toBe(
      'https://styles.redditmedia.com/t5_32uhe/styles/communityIcon_xnt6chtnr2j21.png',
    );
    const md = await curl([
      ...auth,
      '-d',
      'Look ma, **bold text**, *italics*, ...',
      '-H',
      'Markdown: yes',
      `${server.url}/md_a`,
    ]);
    expect(md.json()).toMatchObject({ content_type: 'text/markdown' });
    expect((await only('md_a')).markdown).toBe(true);
    await curl([...auth, '-H', 'Content-Type: text/markdown', '-d', '# hi', `${server.url}/md_b`]);
    expect((await only('md_b')).markdown).toBe(true);
    await curl([...auth, '-d', 'plain', `${server.url}/md_c`]);
    expect((await only('md_c')).markdown).toBeUndefined();
    const badIcon = await curl([
      ...auth,
      '-H',
      'Icon: ftp://x.test/i.png',
      '-d',
      'x',
      `${server.url}/icon_bad`,
    ]);
    expect(badIcon.status).toBe(400);
  });

  it('Attach by URL: name from the URL, default message; Filename overrides', async () => {
    const result = await curl([
      ...auth,
      '-X',
      'POST',
      '-H',
      'Attach: https://f-droid.org/F-Droid.apk',
      `${server.url}/mydownloads`,
    ]);
    expect(result.status).toBe(200);
    expect(await only('mydownloads')).toMatchObject({
      body: 'You received a file: F-Droid.apk',
      attachment: { url: 'https://f-droid.org/F-Droid.apk', name: 'F-Droid.apk' },
    });
    await curl([
      ...auth,
      '-H',
      'a: https://x.test/',
      '-H',
      'f: report.pdf',
      '-d',
      'see attached',
      `${server.url}/attach_b`,
    ]);
    expect((await only('attach_b')).attachment).toEqual({ url: 'https://x.test/', name: 'report.pdf' });
  });

  it('uploads (Filename with a body, or a binary body) are refused with a clear problem', async () => {
    const upload = await curl([
      ...auth,
      '-H',
      'Filename: flower.jpg',
      '--data-binary',
      'JPEGDATA',
      `${server.url}/flowers`,
    ]);
    expect(upload.status).toBe(400);
    expect(upload.json<Problem>().code).toBe('unsupported-feature');
    expect(await history('flowers')).toEqual([]);
  });

  it.each([
    [['-H', 'Email: phil@example.com'], 'mail_a'],
    [['-H', 'X-E-Mail: phil@example.com'], 'mail_b'],
    [[], 'mail_c?email=phil@example.com'],
    [['-H', 'Call: +12223334444'], 'call_a'],
    [[], 'call_b?call=yes'],
  ])('Email/Call (%j) answer "unsupported-feature" and store nothing', async (headers, path) => {
    const result = await curl([...auth, ...headers, '-d', "You've Got Mail", `${server.url}/${path}`]);
    expect(result.status).toBe(400);
    const problem = result.json<Problem>();
    expect(problem.code).toBe('unsupported-feature');
    expect(problem.detail).toMatch(/not offered/);
    expect(await history(path.split('?')[0] as string)).toEqual([]);
  });

  it('the doorbell example: everything but the e-mail is fine, so the whole message is refused', async () => {
    const result = await curl([
      ...auth,
      '-H',
      'Click: https://home.nest.com/',
      '-H',
      'Attach: https://nest.com/view/yAxkasd.jpg',
      '-H',
      'Actions: http, Open door, https://api.nest.com/open/yAxkasd, clear=true',
      '-H',
      'Email: phil@example.com',
      '-d',
      "There's someone at the door. 🐶",
      `${server.url}/mydoorbell`,
    ]);
    expect(result.status).toBe(400);
    expect(await history('mydoorbell')).toEqual([]);
  });

  it('Cache: no and Firebase: no are accepted (Tocsin always stores; it has no Firebase)', async () => {
    for (const header of ['X-Cache: no', 'Firebase: no']) {
      const result = await curl([...auth, '-H', header, '-d', 'x', `${server.url}/cache_fb`]);
      expect(result.status).toBe(200);
    }
    expect(await history('cache_fb')).toHaveLength(2);
  });

  it('ignores the RFC 9218 Priority header proxies add (Priority: u=3, i)', async () => {
    await curl([
      ...auth,
      '-H',
      'Priority: u=3, i',
      '-H',
      'X-Priority: 1',
      '-d',
      'x',
      `${server.url}/rfc9218`,
    ]);
    expect((await only('rfc9218')).priority).toBe(1);
  });
});

describe('ntfy publish: text in headers', () => {
  it('raw UTF-8 header bytes (what curl sends) are read as UTF-8, not Latin-1', async () => {
    const result = await curl([
      ...auth,
      '-H',
      'Title: Ünïcödé ✓ 😀',
      '-H',
      'Tags: café,🐶',
      '-d',
      'Backup successful 😀',
      `${server.url}/utf8_raw`,
    ]);
    expect(result.status).toBe(200);
    expect(result.json()).toMatchObject({ title: 'Ünïcödé ✓ 😀' });
    expect(await only('utf8_raw')).toMatchObject({
      title: 'Ünïcödé ✓ 😀',
      tags: ['café', '🐶'],
      body: 'Backup successful 😀',
    });
  });

  it('Latin-1 bytes that are not valid UTF-8 stay Latin-1', async () => {
    // A Latin-1 "é" alone (0xe9) is not UTF-8; fetch sends header bytes as Latin-1.
    const response = await fetch(`${server.url}/latin1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, title: 'caf\u00e9' },
      body: 'x',
    });
    expect(response.status).toBe(200);
    expect((await only('latin1')).title).toBe('café');
  });

  it('RFC 2047 encoded words, base64 and quoted-printable, as ntfy documents', async () => {
    const b64 = `=?UTF-8?B?${Buffer.from('Ünïcödé title ✓').toString('base64')}?=`;
    await curl([
      ...auth,
      '-H',
      `Title: ${b64}`,
      '-H',
      'Tags: =?utf-8?q?caf=C3=A9?=,plain',
      '-d',
      'x',
      `${server.url}/rfc2047`,
    ]);
    expect(await only('rfc2047')).toMatchObject({ title: 'Ünïcödé title ✓', tags: ['café', 'plain'] });
  });

  it('UTF-8 in query parameters (percent-encoded) is read as UTF-8', async () => {
    await curl([...auth, '-X', 'POST', `${server.url}/utf8_query?title=${encodeURIComponent('Grüße 😀')}`]);
    expect((await only('utf8_query')).title).toBe('Grüße 😀');
  });
});

describe('ntfy publish: the real `ntfy` npm client', () => {
  it('publishes with title, priority, tags, icon, markdown, actions and an attachment URL', async () => {
    const answer = (await ntfyPublish({
      server: server.url,
      topic: 'npm_client',
      authorization: server.adminToken,
      message: 'From the ntfy npm package',
      title: 'npm client',
      priority: 4,
      tags: ['package', 'node'],
      iconURL: 'https://example.com/icon.png',
      markdown: true,
      fileURL: { url: 'https://example.com/report.pdf', filename: 'report.pdf' },
      actions: [
        { type: 'view', label: 'Open', url: 'https://example.com/', clear: true },
        { type: 'http', label: 'Ack', url: 'https://example.com/ack', method: 'put' },
        { type: 'broadcast', label: 'Tell', extras: { cmd: 'ack' } },
      ],
    })) as unknown as { id: string; event: string };
    expect(answer.event).toBe('message');
    expect(await only('npm_client')).toMatchObject({
      id: answer.id,
      title: 'npm client',
      body: 'From the ntfy npm package',
      priority: 4,
      tags: ['package', 'node'],
      icon: 'https://example.com/icon.png',
      markdown: true,
      attachment: { url: 'https://example.com/report.pdf', name: 'report.pdf' },
      actions: [
        { action: 'view', label: 'Open', url: 'https://example.com/', clear: true },
        { action: 'http', label: 'Ack', url: 'https://example.com/ack', method: 'PUT' },
        { action: 'broadcast', label: 'Tell', extras: { cmd: 'ack' } },
      ],
    });
  });

  it('publishes with Basic auth (token as the password) through NtfyClient', async () => {
    const client = new NtfyClient({
      server: server.url,
      authorization: { username: '', password: server.adminToken },
    });
    await client.publish({ topic: 'npm_basic', message: 'basic auth' });
    expect((await only('npm_basic')).body).toBe('basic auth');
  });

  it('schedules with its delay option: nothing in history until then', async () => {
    const answer = (await ntfyPublish({
      server: server.url,
      topic: 'npm_delay',
      authorization: server.adminToken,
      message: 'later',
      delay: '1h',
    })) as unknown as { id: string; time: number };
    expect(answer.id).toMatch(/^s\d+$/);
    expect(answer.time).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(await history('npm_delay')).toEqual([]);
  });

  it('its Email option is refused (the client reports the error) and nothing is stored', async () => {
    await expect(
      ntfyPublish({
        server: server.url,
        topic: 'npm_email',
        authorization: server.adminToken,
        message: 'mail me',
        emailAddress: 'phil@example.com',
      }),
    ).rejects.toThrow(/Bad Request/);
    expect(await history('npm_email')).toEqual([]);
  });
});
