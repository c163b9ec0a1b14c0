'use strict';
// Drives the unmodified @edlink/typescript client (node_modules, pinned in package.json) against our server.
// Input (stdin, JSON): {base, token, bad_token, filters: [{field, clause}], unknown_id, bad_filter}.
// Output (stdout, JSON): what the client returned and threw, and the URLs it requested.
const { Edlink, TokenSetType } = require('@edlink/typescript');

function read() {
  return new Promise((resolve) => {
    let data = '';
    process.stdin.on('data', (chunk) => { data += chunk; });
    process.stdin.on('end', () => resolve(JSON.parse(data)));
  });
}

function client(base, token, requested) {
  const edlink = new Edlink({ version: 2, client_id: 'local', client_secret: 'local' });
  const graph = edlink.use({ type: TokenSetType.Integration, access_token: token });
  // The recipe of specs/edlink.md §9: send https://ed.link/… to our base URL; $next is followed verbatim.
  graph.axios.interceptors.request.use((cfg) => {
    if (cfg.url && cfg.url.startsWith('https://ed.link/')) cfg.url = base + cfg.url.slice('https://ed.link'.length);
    requested.push(cfg.url);
    return cfg;
  });
  return graph;
}

async function all(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function caught(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: e.constructor.name, status: e.status, code: e.code, message: e.message };
  }
}

(async () => {
  const plan = await read();
  const requested = [];
  const graph = client(plan.base, plan.token, requested);
  const out = {};
  out.sessions = await all(graph.sessions.list({ $first: 2 }));
  out.people = await all(graph.people.list({ $first: 3 }));
  out.limited = await all(graph.people.list({ limit: 2 }));
  out.filtered = [];
  for (const { field, clause } of plan.filters) {
    out.filtered.push((await all(graph.sessions.list({ $first: 2, filter: { [field]: [clause] } }))).map((s) => s.id));
  }
  out.fetched = await graph.sessions.fetch(out.sessions[0].id);
  out.school_sessions = await all(graph.schools.listSessions(plan.school_id));
  out.class_students = await all(graph.classes.listStudents(plan.class_id));
  out.errors = {
    bad_filter: await caught(all(graph.sessions.list({ filter: plan.bad_filter }))),
    unknown_id: await caught(graph.sessions.fetch(plan.unknown_id)),
    bad_token: await caught(all(client(plan.base, plan.bad_token, []).sessions.list())),
  };
  out.requested = requested;
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
