// Runs graphql-http's GraphQL-over-HTTP audit (`serverAudits`, the reference suite of the
// spec) against a running server and prints one line per audit. It starts nothing itself.
//
//   node audit.mjs http://127.0.0.1:8080/graphql [--max-warnings N]
//
// Exits non-zero when any audit is an error (a failed MUST) or when there are more than
// `--max-warnings` warnings (failed SHOULDs; default 1). Notices (failed MAYs) are listed
// but never fail. FRONTDESK_AUDIT_TOKEN, when set, is sent as a bearer token on every
// request (the audit's documents need none on Frontdesk: `{ __typename }` is public).
import { serverAudits } from 'graphql-http';

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith('--'));
const maxIndex = args.indexOf('--max-warnings');
const maxWarnings = maxIndex >= 0 ? Number(args[maxIndex + 1]) : 1;
if (!url || Number.isNaN(maxWarnings)) {
  console.error('usage: node audit.mjs <graphql url> [--max-warnings N]');
  process.exit(2);
}

const token = process.env.FRONTDESK_AUDIT_TOKEN;
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  results.push(await audit.fn());
}
const count = (status) => results.filter((r) => r.status === status).length;
for (const r of results) {
  const mark = { ok: 'ok    ', warn: 'WARN  ', error: 'ERROR ', notice: 'notice' }[r.status];
  console.log(`${mark} ${r.id} ${r.name}${r.reason ? ` — ${r.reason}` : ''}`);
}
const [errors, warnings, notices] = [count('error'), count('warn'), count('notice')];
console.log(
  `graphql-http audit of ${url}: ${count('ok')} ok, ${errors} errors, ${warnings} warnings, ${notices} notices`,
);
if (errors > 0 || warnings > maxWarnings) {
  console.error(`graphql-http audit FAILED: at most 0 errors and ${maxWarnings} warnings allowed`);
  process.exit(1);
}
