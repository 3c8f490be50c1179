// The dashboard's pure functions (web/app.js) under node's own test runner:
// countdown text, market and gate indicators, stage rows from a status
// fixture, history rows with every audit field, the promote body.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');

const src = process.env.SRCDIR || path.join(__dirname, '..', '..');
const app = require(path.join(src, 'web', 'app.js'));
const fixture = (name) =>
  JSON.parse(fs.readFileSync(path.join(src, 'tests', 'data', 'dashboard', name), 'utf8'));

test('formatCountdown', () => {
  assert.equal(app.formatCountdown(0), '0s');
  assert.equal(app.formatCountdown(999), '0s');
  assert.equal(app.formatCountdown(42 * 1000), '42s');
  assert.equal(app.formatCountdown(4 * 60e3 + 5e3), '4m05s');
  assert.equal(app.formatCountdown(2 * 3600e3 + 13 * 60e3 + 59e3), '2h13m');
  assert.equal(app.formatCountdown(3 * 86400e3 + 5 * 3600e3), '3d5h');
  assert.equal(app.formatCountdown(-5000), '0s');
  assert.equal(app.formatCountdown(NaN), '');
  assert.equal(app.formatCountdown(undefined), '');
});

test('marketView counts down to the next edge on the server clock', () => {
  const st = fixture('status.json');
  // The client's clock is a day off; the page still counts from the server's.
  const now = app.serverNow(st, Date.parse('2026-03-10T15:00:00Z'));
  assert.equal(new Date(now).toISOString(), '2026-03-09T15:00:00.000Z');
  const open = app.marketView(st.market, now);
  assert.equal(open.open, true);
  assert.equal(open.label, 'OPEN');
  assert.equal(open.reason, 'open, closes 16:00 EDT');
  assert.equal(open.countdown, 'closes in 5h00m');
  assert.equal(app.marketView(st.market, now + 3600e3 + 1000).countdown, 'closes in 3h59m');
  const closed = app.marketView({ open: false, reason_text: 'closed (weekend)',
    next_change: '2026-03-09T13:30:00Z', countdown_s: 42 }, Date.parse('2026-03-09T13:29:18Z'));
  assert.equal(closed.label, 'CLOSED');
  assert.equal(closed.countdown, 'opens in 42s');
  assert.equal(app.marketView(null, now).label, 'UNKNOWN');
  assert.equal(app.serverNow({ market: null }, 1234), 1234);
});

test('gateView: block/allow on market-gated stages only, never allow on no data', () => {
  assert.deepEqual(app.gateView({ market_gated: true }, { open: true }),
    { blocked: true, text: 'BLOCKED (market open)' });
  assert.deepEqual(app.gateView({ market_gated: true }, { open: false }),
    { blocked: false, text: 'ALLOWED (market closed)' });
  assert.equal(app.gateView({ market_gated: true }, null).blocked, true);
  assert.equal(app.gateView({ market_gated: false }, { open: true }), null);
});

test('stageRows: five stages in pipeline order from the status fixture', () => {
  const st = fixture('status.json');
  const rows = app.stageRows(st);
  assert.deepEqual(rows.map((r) => r.name), ['ci', 'integration-test', 'beta', 'paper', 'live']);
  const paper = rows[3];
  assert.equal(paper.enabled, true);
  assert.equal(paper.deploy, true);
  assert.equal(paper.market_gated, true);
  assert.equal(app.shortSha(paper.tag), '2222222');
  assert.equal(paper.promoted_by, 'Alice <alice@example.org>');
  assert.equal(paper.promoted_at, '2026-03-06T21:30:00Z');
  assert.equal(paper.source, 'beta');
  assert.equal(paper.status, 'on request, market-gated');
  assert.equal(rows[2].status, 'automatic');
  assert.equal(rows[2].promoted_by, 'pipelined (automatic)');
  assert.equal(rows[4].enabled, false);
  assert.equal(rows[4].status, 'disabled');
  // Argo CD's view: null where nothing follows the stage
  assert.equal(rows[2].deployed.verdict, 'deployed');
  assert.equal(rows[2].deployed.tone, 'ok');
  assert.equal(rows[2].deployed.message, '');
  assert.equal(rows[3].deployed.tone, 'bad');
  assert.match(rows[3].deployed.message, /^one or more objects failed to apply/);
  assert.equal(rows[4].deployed, null);
  assert.equal(rows[0].deployed, null);
  assert.equal(app.deployedView({ verdict: 'progressing', reason: 'sync running' }).tone, 'warn');
  // the link to the Application in Argo CD's UI; time from commit to healthy
  assert.equal(rows[2].deployed.url, 'https://argocd.example.org/applications/argocd/stonks-beta');
  assert.equal(rows[2].deployed.healthy_after_s, 285);
  assert.equal(rows[2].deployed.time, 'Healthy 4m45s after the promotion commit');
  assert.equal(rows[3].deployed.time, 'Promotion 4444444 not deployed yet');
  assert.equal(rows[3].deployed.healthy_after_s, null);
  assert.equal(app.deployedView({ verdict: 'deployed', url: 'javascript:alert(1)' }).url, '');
  assert.equal(app.deployedView({ verdict: 'unknown' }).time, '');
  // desired (Git) next to deployed (Argo CD)
  assert.equal(app.runningText(rows[2]), '1111111 (synced 6666666)');
  assert.equal(app.runningText(rows[3]), 'synced 3333333, 0/14 images on 2222222');
  assert.equal(app.runningText({ tag: '', deployed: app.deployedView({ verdict: 'unknown' }) }),
    'not known (unknown)');
  // evidence stages: newest complete release, newest verdict
  assert.equal(rows[0].deploy, false);
  assert.equal(rows[0].tag, '1111111111111111111111111111111111111111');
  assert.equal(rows[0].status, 'release complete (14/14 images)');
  assert.equal(rows[1].status, 'passed — passed 312/312');
  // unreadable evidence: the daemon's own words, the same for every release
  const unreadable = app.stageRows({ releases: [
    { sha: '3'.repeat(40), evidence: 'unreadable', first_seen: '2026-03-07T10:00:00Z',
      evidence_summary: 'evidence unreadable: inttest-results.json: evidence has no integer "exit_code"' },
    { sha: '1'.repeat(40), evidence: 'passed', first_seen: '2026-03-06T10:00:00Z',
      evidence_summary: 'passed 312/312' }] });
  assert.equal(unreadable[1].tag, '3'.repeat(40));
  assert.equal(unreadable[1].status,
    'evidence unreadable: inttest-results.json: evidence has no integer "exit_code"');
  // the forty-zero placeholder is no tag; a stage the API left out still shows
  const partial = app.stageRows({ stages: [{ name: 'beta', enabled: true, current_tag: '0'.repeat(40) }] });
  assert.equal(partial.length, 5);
  assert.equal(partial[2].tag, '');
  assert.equal(partial[0].status, 'no complete release seen');
  assert.equal(rows[2].blocked, false);
  // a blocked stage says so, with the daemon's reason
  const blocked = app.stageRows({ stages: [{ name: 'beta', enabled: true, auto: true, blocked: true,
    blocked_reason: "values/values-beta.yaml: image 'superset' has no tag location" }] });
  assert.equal(blocked[2].status, 'blocked');
  assert.equal(blocked[2].blocked, true);
  assert.match(blocked[2].blocked_reason, /image 'superset' has no tag location/);
  assert.equal(app.suggestedTag(rows, 'paper'), '1111111111111111111111111111111111111111');
  assert.equal(app.suggestedTag(rows, 'live'), '2222222222222222222222222222222222222222');
});

test('historyRows keep every audit field as text', () => {
  const rows = app.historyRows(fixture('history-paper.json'));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], {
    time: '2026-03-06T21:30:00Z', stage: 'paper', source: 'beta',
    tag: '2222222222222222222222222222222222222222', requested_by: 'Alice <alice@example.org>',
    request: '5555555555555555555555555555555555555555', notes: 'weekly release',
    break_glass: '', market: 'closed (after hours)', integration_test: 'passed 312/312',
    signed_by: '', approved_by: '' });
  assert.equal(rows[1].break_glass, 'broker outage');
  assert.equal(rows[1].signed_by, 'bob@example.org');
  assert.deepEqual(app.historyRows(fixture('history-live.json')), []);
});

test('pendingRows carry the refusal code and message; errors per subsystem', () => {
  const st = fixture('status.json');
  const rows = app.pendingRows(st);
  assert.equal(rows.length, 3);
  assert.equal(rows[0].state, 'queued');
  assert.equal(rows[0].code, 'market-open');
  assert.match(rows[0].message, /^blocked: market open/);
  // hostile text stays text: the renderer uses textContent
  assert.equal(rows[0].branch, 'promote/paper/<img src=x onerror=alert(1)>');
  assert.equal(app.pendingRows({ requests: [{ branch: 'promote/x', stage: null }] })[0].stage, '(malformed)');
  assert.deepEqual(app.errorLines(st),
    ['registry: GET https://ghcr.io/v2/: connection timed out (3 failures) at 2026-03-09T14:58:00Z']);
});

test('promote body and the break-glass justification rule', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  assert.deepEqual(app.promoteBody('paper', ' ' + sha + ' ', 'n'),
    { stage: 'paper', tag: sha, notes: 'n' });
  assert.deepEqual(app.promoteBody('live', sha, '', 'outage'),
    { stage: 'live', tag: sha, notes: '', break_glass: 'outage' });
  assert.equal(app.justificationOk(''), false);
  assert.equal(app.justificationOk('  \n\t'), false);
  assert.equal(app.justificationOk('x'.repeat(1025)), false);
  assert.equal(app.justificationOk('broker outage'), true);
  for (const blank of ['\u00a0', '\u3000', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff',
    '\u2000\u2005\u200a', '\u202f', '\u205f', '\u1680', '\u0085', '\u2028\u2029', '\u0007'])
    assert.equal(app.justificationOk(' ' + blank + ' '), false, JSON.stringify(blank));
  assert.equal(app.justificationOk('\u00a0\u672c\u3000'), true);
});

test('freezeRows: the freezes in force, then those to come; freezeError', () => {
  assert.deepEqual(app.freezeRows({}), []);
  assert.deepEqual(app.freezeRows({ freezes: { file: null, active: [], upcoming: [] } }), []);
  const st = {
    freezes: {
      file: 'values/freezes.yaml',
      active: [{ id: 'inc-4711', stages: ['paper'], all: false, start: null, end: null,
        reason: 'incident <b>4711</b>', break_glass: false, active: true }],
      upcoming: [{ id: 'year-end', stages: ['beta', 'paper', 'live'], all: true,
        start: '2026-12-31T05:00:00Z', end: '2027-01-04T14:00:00Z', reason: 'book close',
        break_glass: true, active: false }],
      error: null, error_at: null, in_force: null
    }
  };
  assert.deepEqual(app.freezeRows(st), [
    { state: 'FROZEN', id: 'inc-4711', stages: 'paper', reason: 'incident <b>4711</b>',
      start: 'in force', end: 'until lifted', break_glass: 'denied' },
    { state: 'upcoming', id: 'year-end', stages: 'all', reason: 'book close',
      start: '2026-12-31T05:00:00Z', end: '2027-01-04T14:00:00Z', break_glass: 'allowed' }
  ]);
  assert.equal(app.freezeError(st), '');
  st.freezes.error = 'values/freezes.yaml:12: unknown stage "papr" (use beta, paper, live, or all)';
  st.freezes.in_force = 'the last good version stays in force';
  assert.equal(app.freezeError(st), 'values/freezes.yaml does not parse (the last good version ' +
    'stays in force): values/freezes.yaml:12: unknown stage "papr" (use beta, paper, live, or all)');
});

test('quietText: a stage\'s guard bands', () => {
  assert.equal(app.quietText(undefined), '');
  assert.equal(app.quietText({ before_s: 1800, after_s: 900, in: true,
    from: '2026-12-01T14:00:00Z', until: '2026-12-01T21:15:00Z' }),
  'now, until 2026-12-01T21:15:00Z (30m before the open, 15m after the close)');
  assert.equal(app.quietText({ before_s: 3600, after_s: 0, in: false,
    from: '2026-12-02T13:30:00Z', until: '2026-12-02T21:00:00Z' }),
  'next 2026-12-02T13:30:00Z to 2026-12-02T21:00:00Z (1h before the open, 0s after the close)');
});

test('rollback: the body and the confirmation (issue 14 item 4)', () => {
  const x = '1'.repeat(40), y = '2'.repeat(40);
  assert.deepEqual(app.rollbackBody('paper', x, 'fills wrong', ''),
    { stage: 'paper', tag: x, notes: '', rollback: 'fills wrong' });
  assert.deepEqual(app.rollbackBody('paper', x, 'fills wrong', 'n', 'INC-1'),
    { stage: 'paper', tag: x, notes: 'n', break_glass: 'INC-1', rollback: 'fills wrong' });
  const rows = app.stageRows({ stages: [{ name: 'paper', enabled: true, market_gated: true,
    current_tag: y, rollback_to: x, rollback_during_market: true,
    promoted: { rollback: { from: '3'.repeat(40), reason: 'bad fills', allowance: false } } }] });
  const paper = rows.find((r) => r.name === 'paper');
  assert.equal(paper.rollback_to, x);
  assert.equal(paper.rollback_during_market, true);
  assert.deepEqual(paper.rollback, { from: '3'.repeat(40), reason: 'bad fills' });
  assert.equal(app.rollbackSummary(paper), 'Roll paper back from 2222222 to 1111111 (' + x + ').');
  // nothing to go back to: no button
  const none = app.stageRows({ stages: [{ name: 'beta', enabled: true, current_tag: y, rollback_to: null }] });
  assert.equal(none.find((r) => r.name === 'beta').rollback_to, '');
});

test('approveView: Approve for anyone but the requester, on approval-required only', () => {
  const x = '0123456789abcdef0123456789abcdef01234567';
  const st = { requests: [{
    branch: 'promote/live/cab-12', stage: 'live', tag: x, commit: x, state: 'queued',
    code: 'approval-required', message: 'live requires 1 approval',
    approvals: { needed: 1, given: [], author: 'dana@example.com', signer: 'dana@example.com',
      dashboard: true } }] };
  const row = app.pendingRows(st)[0];
  assert.equal(row.commit, x);
  // not logged in yet: offered (the login comes first, then the check)
  assert.deepEqual(app.approveView(row, null, null),
    { show: true, enabled: true, why: '', count: '0 of 1 approval' });
  assert.equal(app.approveView(row, 'rita', 'rita@example.com').enabled, true);
  // the requester, by e-mail (any case) or by name as the signing principal
  const self = app.approveView(row, 'dana', 'Dana@Example.com');
  assert.equal(self.show, true);
  assert.equal(self.enabled, false);
  assert.match(self.why, /someone else must approve/);
  const bySigner = app.pendingRows({ requests: [Object.assign({}, st.requests[0],
    { approvals: Object.assign({}, st.requests[0].approvals, { author: 'd@home', signer: 'dana' }) })] })[0];
  assert.equal(app.approveView(bySigner, 'dana', 'dana@ops.example').enabled, false);
  // one who approved already
  const twice = app.pendingRows({ requests: [Object.assign({}, st.requests[0],
    { approvals: { needed: 2, given: [{ commit: x, name: 'rita', email: 'rita@example.com' }],
      author: 'dana@example.com', dashboard: true } })] })[0];
  const v = app.approveView(twice, 'rita', 'rita@example.com');
  assert.equal(v.enabled, false);
  assert.equal(v.count, '1 of 2 approvals');
  // not waiting for an approval, or no approvalKey: no button, the count stays
  const other = app.pendingRows({ requests: [Object.assign({}, st.requests[0], { code: 'market-open' })] })[0];
  assert.equal(app.approveView(other, 'rita', 'rita@example.com').show, false);
  const nokey = app.pendingRows({ requests: [Object.assign({}, st.requests[0],
    { approvals: Object.assign({}, st.requests[0].approvals, { dashboard: false }) })] })[0];
  assert.deepEqual(app.approveView(nokey, 'rita', 'r@x'), { show: false, enabled: false, why: '', count: '0 of 1 approval' });
  // a stage without approvals: nothing at all
  assert.equal(app.approveView(app.pendingRows({ requests: [{ branch: 'b' }] })[0], 'a', 'b').count, '');
  assert.equal(app.approveSummary(row),
    'Approve promote/live/cab-12: live to 0123456 (' + x + '), requested by dana@example.com (signed by dana@example.com).');
});

test('historyRows show every Approved-By', () => {
  const rows = app.historyRows({ entries: [{ stage: 'live', approved_by: ['A <a@x> (principal a, approval 1)', 'B'] }] });
  assert.equal(rows[0].approved_by, 'A <a@x> (principal a, approval 1); B');
});
