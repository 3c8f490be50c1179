// One browser test of the dashboard: headless Chromium (Debian's package)
// driven over the DevTools protocol on --remote-debugging-pipe (fds 3 and
// 4, NUL-separated JSON), so no npm package is needed.  Loads the page from
// tests/tools/dashboard_testd, checks the five stages render with the
// market gate in words and hostile API text stays text, logs in through
// the page's form (Argo CD per stage: verdict, a failed sync's message in
// red, desired vs deployed, the link to the Application, commit-to-healthy
// time), checks the Break-Glass dialog refuses an empty and a
// blank justification (nothing reaches the promote callback), then sends a
// justified request and sees it arrive with the operator as author; Roll
// back and Approve (issue 14) confirm first, Approve is disabled for the
// requester.
// Usage: node browser.js URL RECORD-FILE SCREENSHOT.png PROFILE-DIR
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const assert = require('node:assert/strict');

const [url, recordFile, shotFile, profile] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--user-data-dir=' + profile, '--remote-debugging-pipe', '--window-size=1400,1000'];

const chrome = spawn(CHROMIUM, flags, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
chrome.stderr.on('data', (d) => { stderr += d; });
const out = chrome.stdio[3], input = chrome.stdio[4];
let nextId = 1, pending = new Map(), events = [], buffered = '';

input.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  let nul;
  while ((nul = buffered.indexOf('\0')) >= 0) {
    const msg = JSON.parse(buffered.slice(0, nul));
    buffered = buffered.slice(nul + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error))); else resolve(msg.result);
    } else if (msg.method) {
      events.push(msg);
    }
  }
});

function send(method, params, sessionId) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  out.write(JSON.stringify(msg) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const deadline = setTimeout(() => { console.error('FAIL: browser test timed out\n' + stderr); process.exit(1); }, 45000);
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const ev = async (expr) => {
    const r = await send('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails) throw new Error(expr + ': ' + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const waitFor = async (expr, what) => {
    for (let i = 0; i < 100; i++) {
      if (await ev(expr)) return;
      await sleep(100);
    }
    throw new Error('timed out waiting for ' + what);
  };
  const records = () => fs.readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);

  await send('Page.enable', {}, sessionId);
  await send('Page.navigate', { url }, sessionId);
  await waitFor("document.querySelectorAll('#pipeline li.stage').length === 5", 'five stages');
  await waitFor("document.querySelectorAll('#history tbody td').length > 1", 'history rows');

  const names = await ev("[...document.querySelectorAll('#pipeline h3')].map(h => h.textContent)");
  assert.deepEqual(names, ['ci', 'integration-test', 'beta', 'paper', 'live']);
  const paper = await ev("document.querySelectorAll('#pipeline li.stage')[3].textContent");
  assert.match(paper, /2222222/);
  assert.match(paper, /BLOCKED \(market open\)/);
  assert.match(await ev("document.getElementById('market-state').textContent"), /Market OPEN/);
  assert.match(await ev("document.querySelectorAll('#pipeline li.stage')[4].textContent"), /Disabled/);
  assert.equal(await ev("document.querySelectorAll('#pending img').length"), 0);
  assert.match(await ev("document.getElementById('pending').textContent"), /<img src=x onerror=alert\(1\)>/);
  assert.match(await ev("document.getElementById('history').textContent"), /pipelined \(automatic\)/);
  assert.match(await ev("document.getElementById('errors').textContent"), /registry: GET .* timed out \(3 failures\)/);
  await ev("const s = document.getElementById('history-stage'); s.value = 'paper'; s.dispatchEvent(new Event('change')); true");
  await waitFor("/broker outage/.test(document.getElementById('history').textContent)", 'paper history');
  console.log('ok: five stages, gate in words, pending, errors and per-stage history rendered as text');

  // Argo CD: beta deployed; paper's failed sync in red with Argo CD's message.
  assert.match(await ev("document.querySelector('[data-deployed=beta]').textContent"), /Argo CD: DEPLOYED/);
  assert.match(await ev("document.querySelector('[data-deployed=paper]').textContent"), /Argo CD: SYNC-FAILED/);
  const failMsg = "document.querySelector('[data-deployed-message=paper]')";
  assert.equal(await ev(failMsg + ".textContent"),
    'one or more objects failed to apply: admission webhook denied the Deployment <b>risk</b>');
  assert.equal(await ev("document.querySelectorAll('#pipeline li.stage b').length"), 0);
  assert.equal(await ev("getComputedStyle(" + failMsg + ").color"), 'rgb(180, 35, 24)');
  assert.equal(await ev("document.querySelector('[data-deployed-message=beta]')"), null);
  assert.equal(await ev("document.querySelector('[data-deployed=live]')"), null);
  // the link to each Application in Argo CD's UI, and commit-to-healthy time
  assert.equal(await ev("document.querySelector('[data-deployed-link=paper]').href"),
    'https://argocd.example.org/applications/argocd/stonks-paper');
  assert.equal(await ev("document.querySelector('[data-deployed-link=paper]').textContent"),
    'Open stonks-paper in Argo CD');
  assert.equal(await ev("document.querySelector('[data-deployed-link=beta]').getAttribute('rel')"),
    'noopener noreferrer');
  assert.equal(await ev("document.querySelector('[data-deployed-time=beta]').textContent"),
    'Healthy 4m45s after the promotion commit');
  assert.equal(await ev("document.querySelector('[data-deployed-time=paper]').textContent"),
    'Promotion 4444444 not deployed yet');
  assert.match(await ev("document.querySelectorAll('#pipeline li.stage')[2].textContent"),
    /Desired1111111Deployed1111111 \(synced 6666666\)/);
  console.log('ok: Argo CD verdicts per stage; a failed sync in red with its message, as text; '
    + 'desired vs deployed, the link to the Application and the time from commit to healthy');

  // Break-Glass on paper: first the page asks for a login.
  await ev("[...document.querySelectorAll('#pipeline button')].find(b => /Break-Glass/.test(b.textContent)).click()");
  await waitFor("document.getElementById('login-dialog').open", 'the login dialog');
  await ev(`document.getElementById('login-user').value = 'alice';
            document.getElementById('login-password').value = 'correct horse';
            document.getElementById('login-form').requestSubmit(); true`);
  await waitFor("document.getElementById('bg-dialog').open", 'the Break-Glass dialog');
  assert.equal(await ev("document.getElementById('bg-tag').value"), '1111111111111111111111111111111111111111');

  await ev("document.getElementById('bg-justification').value = ''; document.getElementById('bg-submit').click(); true");
  await sleep(300);
  assert.equal(await ev("document.getElementById('bg-dialog').open"), true);
  await ev("document.getElementById('bg-justification').value = '   \\n '; document.getElementById('bg-submit').click(); true");
  await sleep(300);
  assert.equal(await ev("document.getElementById('bg-dialog').open"), true);
  assert.match(await ev("document.getElementById('bg-error').textContent"), /justification is required/);
  assert.equal(records().length, 0, 'an unjustified Break-Glass reached the callback');
  console.log('ok: Break-Glass dialog refuses an empty and a blank justification');

  await send('Page.captureScreenshot', { format: 'png' }, sessionId)
    .then((r) => fs.writeFileSync(shotFile, Buffer.from(r.data, 'base64')));

  await ev("document.getElementById('bg-justification').value = 'broker outage, fix must ship'; document.getElementById('bg-submit').click(); true");
  await waitFor("!document.getElementById('bg-dialog').open", 'the dialog to close');
  await waitFor("/promote\\/paper\\/dashboard-1/.test(document.getElementById('notice').textContent)", 'the branch notice');
  const got = records().map((l) => JSON.parse(l));
  assert.equal(got.length, 1);
  assert.equal(got[0].stage, 'paper');
  assert.equal(got[0].break_glass, 'broker outage, fix must ship');
  assert.equal(got[0].author_name, 'alice');
  console.log('ok: a justified Break-Glass request reaches the callback as alice; screenshot ' + shotFile);

  // Roll back paper (issue 14 item 4): the dialog says from which release to
  // which, and refuses to send without a reason.
  await ev("[...document.querySelectorAll('#pipeline button')].find(b => /Roll back/.test(b.textContent)).click()");
  await waitFor("document.getElementById('rb-dialog').open", 'the Roll back dialog');
  assert.equal(await ev("document.getElementById('rb-summary').textContent"),
    'Roll paper back from 2222222 to 0000000 (0000000000000000000000000000000000000001).');
  await ev("document.getElementById('rb-reason').value = ' \\u200b '; document.getElementById('rb-submit').click(); true");
  await sleep(300);
  assert.equal(await ev("document.getElementById('rb-dialog').open"), true);
  assert.match(await ev("document.getElementById('rb-error').textContent"), /reason is required/);
  assert.equal(records().length, 1, 'a rollback without a reason reached the callback');
  await ev("document.getElementById('rb-reason').value = 'fills at stale prices'; document.getElementById('rb-submit').click(); true");
  await waitFor("!document.getElementById('rb-dialog').open", 'the Roll back dialog to close');
  const rb = records().map((l) => JSON.parse(l))[1];
  assert.equal(rb.stage, 'paper');
  assert.equal(rb.tag, '0000000000000000000000000000000000000001');
  assert.equal(rb.rollback, 'fills at stale prices');
  assert.equal(rb.break_glass_given, false);
  assert.equal(rb.author_name, 'alice');
  console.log('ok: Roll back shows from and to, needs a reason, and sends the rollback as alice');

  // Approve (issue 14 item 3): disabled, with the reason, on alice's own
  // request; on bob's, a confirmation, then the branch and the tip shown.
  const apBtn = (b) => `document.querySelector('#pending button[aria-label="Approve ${b}"]')`;
  await waitFor(apBtn('promote/live/by-alice') + ' && ' + apBtn('promote/live/by-alice') + '.disabled',
    'a disabled Approve on alice\'s own request');
  assert.match(await ev("document.getElementById('pending').textContent"), /You requested this: someone else must approve it\./);
  assert.match(await ev("document.getElementById('pending').textContent"), /0 of 1 approval/);
  assert.equal(await ev(apBtn('promote/paper/<img src=x onerror=alert(1)>')), null);
  assert.equal(await ev(apBtn('promote/live/cab-12') + '.disabled'), false);
  await ev(apBtn('promote/live/cab-12') + '.click(); true');
  await waitFor("document.getElementById('ap-dialog').open", 'the Approve dialog');
  assert.equal(await ev("document.getElementById('ap-summary').textContent"),
    'Approve promote/live/cab-12: live to 2222222 (2222222222222222222222222222222222222222), requested by bob@example.org (signed by bob@example.org).');
  assert.equal(records().length, 2, 'Approve sent before the confirmation');
  await ev("document.getElementById('ap-submit').click(); true");
  await waitFor("!document.getElementById('ap-dialog').open", 'the Approve dialog to close');
  await waitFor("/Approved promote\\/live\\/cab-12 \\(approval abcdef0\\)/.test(document.getElementById('notice').textContent)",
    'the approval notice');
  const ap = records().map((l) => JSON.parse(l))[2];
  assert.deepEqual(ap, { approve: 'promote/live/cab-12', commit: '8888888888888888888888888888888888888888',
    author_name: 'alice', author_email: ap.author_email });
  console.log('ok: Approve is disabled for the requester, confirms, then sends the branch and tip shown as alice');
  clearTimeout(deadline);
}

// Exit only once Chromium has gone, so it no longer writes to its profile
// when the test script removes it.
function finish(code) {
  const t = setTimeout(() => chrome.kill('SIGKILL'), 5000);
  chrome.on('exit', () => { clearTimeout(t); process.exit(code); });
  if (chrome.exitCode !== null || chrome.signalCode !== null) process.exit(code);
  send('Browser.close').catch(() => chrome.kill('SIGKILL'));
}

main().then(() => finish(0), (e) => { console.error('FAIL: ' + e.message); finish(1); });
