// Drives the same SCIM and Directory Sync calls against the reference (@boxyhq/saml-jackson,
// in-process with its memory store, served over HTTP by a small node server here) and against
// a running dirfeed, and compares what a client sees: statuses and the member names of each
// answer (values differ: ids, secrets, times). Webhooks of both go to a receiver here; their
// event names and data members are compared too. With --bench N: N SCIM user creates, one at
// a time over HTTP, against each (webhooks on), requests/s and p99.
//
// usage: node parity.mjs DIRFEED_PORT API_KEY [--bench N]
// Prints one line per difference; the known ones (README "Differences from the reference
// implementation") are marked "known". Exits 1 when an unknown difference is found.
import http from 'node:http';
import jackson from '@boxyhq/saml-jackson';

const [dirfeedPort, apiKey, ...rest] = process.argv.slice(2);
const benchCount = rest[0] === '--bench' ? Number(rest[1]) : 0;

// ---- a webhook receiver for both -----------------------------------------------------------
const received = { jackson: [], dirfeed: [] };
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const who = req.url.includes('dirfeed') ? 'dirfeed' : 'jackson';
    received[who].push({ headers: req.headers, body: JSON.parse(body) });
    res.end('ok');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hook = (who) => `http://127.0.0.1:${receiver.address().port}/${who}`;

// ---- the reference over HTTP ---------------------------------------------------------------
const ctrl = await (jackson.default ?? jackson)({
  externalUrl: 'http://127.0.0.1', samlPath: '/api/oauth/saml', db: { engine: 'mem' },
  dsync: { webhookBatchSize: 0 },
});
const ds = ctrl.directorySyncController;
const reference = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', async () => {
    const url = new URL(req.url, 'http://x');
    const m = url.pathname.match(/^\/api\/scim\/v2\.0\/([^/]+)\/(Users|Groups)(?:\/([^/]+))?$/);
    if (!m) { res.statusCode = 404; return res.end('{}'); }
    const auth = req.headers.authorization ?? '';
    const query = Object.fromEntries(url.searchParams);
    if (query.count) query.count = Number(query.count);
    if (query.startIndex) query.startIndex = Number(query.startIndex);
    const out = await ds.requests.handle({
      method: req.method, directoryId: m[1], resourceType: m[2].toLowerCase(), resourceId: m[3],
      apiSecret: auth.startsWith('Bearer ') ? auth.slice(7) : null,
      body: text ? JSON.parse(text) : undefined, query,
    });
    res.statusCode = out.status;
    res.setHeader('Content-Type', 'application/scim+json');
    res.end(out.data === undefined ? '' : JSON.stringify(out.data));
  });
});
await new Promise((r) => reference.listen(0, '127.0.0.1', r));
const referencePort = reference.address().port;

// ---- the two sides -------------------------------------------------------------------------
async function send(port, method, path, body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: { 'Content-Type': 'application/scim+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, json };
}

async function side(who) {
  let dir;
  if (who === 'jackson') {
    ({ data: dir } = await ds.directories.create({ name: 'App', tenant: 'acme', product: 'crm',
      type: 'okta-scim-v2', webhook_url: hook('jackson'), webhook_secret: 's' }));
  } else {
    dir = (await send(dirfeedPort, 'POST', '/api/v1/directory-sync',
      { name: 'App', tenant: 'acme', product: 'crm', type: 'okta-scim-v2',
        webhook_url: hook('dirfeed'), webhook_secret: 's' },
      { Authorization: `Api-Key ${apiKey}` })).json.data;
  }
  const port = who === 'jackson' ? referencePort : dirfeedPort;
  const base = `/api/scim/v2.0/${dir.id}`;
  const auth = { Authorization: `Bearer ${dir.scim.secret}` };
  const call = (method, path, body, headers = auth) => send(port, method, base + path, body, headers);
  const steps = [];
  const step = (name, reply) => { steps.push({ name, ...reply }); return reply; };
  step('directory', { status: 201, json: dir });
  step('filter, none', await call('GET', '/Users?filter=' + encodeURIComponent('userName eq "alice@corp.example"') + '&startIndex=1&count=100'));
  const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'alice@corp.example',
    name: { givenName: 'Alice', familyName: 'Able' }, emails: [{ primary: true, value: 'alice@corp.example', type: 'work' }],
    displayName: 'Alice Able', externalId: '00u1', active: true };
  const created = step('create user', await call('POST', '/Users', user));
  const id = created.json.id;
  step('duplicate user', await call('POST', '/Users', user));
  step('get user', await call('GET', `/Users/${id}`));
  step('filter, one', await call('GET', '/Users?filter=' + encodeURIComponent('userName eq "alice@corp.example"') + '&startIndex=1&count=100'));
  step('deactivate', await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] }));
  const group = step('create group', await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineers', members: [] }));
  const gid = group.json.id;
  step('add member', await call('PATCH', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: 'alice@corp.example' }] }] }));
  step('get group', await call('GET', `/Groups/${gid}`));
  step('remove member', await call('PATCH', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] }));
  step('delete user', await call('DELETE', `/Users/${id}`));
  step('get deleted user', await call('GET', `/Users/${id}`));
  step('wrong secret', await call('GET', '/Users', undefined, { Authorization: 'Bearer nope' }));
  step('unknown directory', await send(port, 'GET', '/api/scim/v2.0/0f8fad5b-d9cb-469f-a165-70867728950e/Users', undefined, auth));
  return { steps, dir, port, base, auth };
}

// The member names of a value, recursively ("a.b" for nested objects, "a[]" for arrays).
function shape(value, prefix = '') {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.length ? shape(value[0], prefix + '[].') : [];
  return Object.keys(value).sort().flatMap((k) => [prefix + k, ...shape(value[k], prefix + k + '.')]);
}

// Differences README "Differences from the reference implementation" explains.
const known = [
  [/^unknown directory: status/, 'RFC 7644: 404 for an unknown directory'],
  [/^unknown directory: dirfeed (has|lacks)/, 'an error body for the 404'],
  [/^delete user: status/, 'RFC 7644 section 3.6: 204'],
  [/^delete user: dirfeed lacks/, '204 has no body'],
  [/: dirfeed has (status|scimType)$/, 'RFC 7644 section 3.12 error members'],
  [/^directory: dirfeed has (domain|base_dns|group|webhook_batch_size|include_api_users)$/, 'dirfeed extensions'],
  [/: dirfeed has (Resources\.\[\]\.)?meta(\..*)?$/, 'RFC 7643 meta'],
  [/^(add member|remove member): dirfeed has members\.\[\]\.(display|value)$/, 'RFC 7644 3.5.2: a PATCH answers the resource'],
  [/^get group: dirfeed has members\.\[\]\.(display|value)$/, 'GET of a group lists its members (the reference: none)'],
  [/^webhook group\.user_added: dirfeed lacks data\.group\.raw\.members$/, 'membership events carry the group without members'],
  [/^webhook events:/, 'each membership change also makes the user and the group updated'],
];

const a = await side('jackson');
const b = await side('dirfeed');
let unknown = 0;
const report = (line) => {
  const why = known.find(([re]) => re.test(line));
  if (!why) ++unknown;
  console.log((why ? 'known    ' : 'DIFFERENT') + ' ' + line + (why ? `  (${why[1]})` : ''));
};
for (let i = 0; i < a.steps.length; ++i) {
  const x = a.steps[i], y = b.steps[i];
  if (x.status !== y.status) report(`${x.name}: status ${x.status} vs dirfeed ${y.status}`);
  const sx = new Set(shape(x.json)), sy = new Set(shape(y.json));
  for (const k of sx) if (!sy.has(k)) report(`${x.name}: dirfeed lacks ${k}`);
  for (const k of sy) if (!sx.has(k)) report(`${x.name}: dirfeed has ${k}`);
}

// Webhook events, once both have delivered (the reference sends as it goes; dirfeed polls its
// feed every 200 ms).
await new Promise((r) => setTimeout(r, 3000));
const events = (who) => received[who].map((e) => e.body.event).join(',');
console.log(`events jackson: ${events('jackson')}`);
console.log(`events dirfeed: ${events('dirfeed')}`);
if (events('jackson') !== events('dirfeed')) report('webhook events: the sequences differ');
const signatures = (who) => ['boxyhq-signature', 'ory-polis-signature']
  .filter((h) => h in (received[who][0]?.headers ?? {})).join(', ');
console.log(`signature headers: jackson ${signatures('jackson')}; dirfeed ${signatures('dirfeed')}`);
if (signatures('jackson') !== signatures('dirfeed')) report('webhook signature headers differ');
const first = (who, name) => received[who].find((e) => e.body.event === name)?.body;
for (const name of ['user.created', 'group.user_added', 'user.deleted']) {
  const x = first('jackson', name), y = first('dirfeed', name);
  if (!x || !y) { report(`webhook ${name}: ${x ? '' : 'jackson has none '}${y ? '' : 'dirfeed has none'}`); continue; }
  const sx = new Set(shape(x)), sy = new Set(shape(y));
  for (const k of sx) if (!sy.has(k)) report(`webhook ${name}: dirfeed lacks ${k}`);
  for (const k of sy) if (!sx.has(k)) report(`webhook ${name}: dirfeed has ${k}`);
}

// ---- the bench -----------------------------------------------------------------------------
if (benchCount > 0) {
  for (const [who, s] of [['jackson', a], ['dirfeed', b]]) {
    const times = [];
    const start = process.hrtime.bigint();
    for (let i = 0; i < benchCount; ++i) {
      const t0 = process.hrtime.bigint();
      const r = await send(s.port, 'POST', s.base + '/Users', { userName: `bench${i}@corp.example`, name: { givenName: 'B', familyName: String(i) }, emails: [{ primary: true, value: `bench${i}@corp.example` }], active: true }, s.auth);
      if (r.status !== 201) throw new Error(`${who}: create ${i}: ${r.status}`);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    times.sort((p, q) => p - q);
    console.log(`bench ${who}: ${benchCount} creates in ${seconds.toFixed(2)} s: ${(benchCount / seconds).toFixed(0)}/s, p50 ${times[Math.floor(times.length * 0.5)].toFixed(2)} ms, p99 ${times[Math.floor(times.length * 0.99)].toFixed(2)} ms`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`bench webhooks received: jackson ${received.jackson.length}, dirfeed ${received.dirfeed.length}`);
}

console.log(`${unknown === 0 ? 'parity: only known differences' : `parity: ${unknown} unknown differences`}`);
process.exit(unknown === 0 ? 0 : 1);
