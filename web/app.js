/* pipelined dashboard: reads /api/v1/status and /api/v1/history, writes
 * through /api/v1/promote and /api/v1/approve.  Every string from the API goes into the page
 * as textContent, never as markup.  The pure functions at the top are
 * exported for tests under node (tests/web/app.test.js). */
'use strict';

var STAGES = ['ci', 'integration-test', 'beta', 'paper', 'live'];
var DEPLOY = { beta: true, paper: true, live: true };
var REFRESH_MS = 15000;	/* a promotion shows within 60 s (seed 14.2) */

function pick(obj, keys) {
  if (!obj) return undefined;
  for (var i = 0; i < keys.length; i++) {
    var v = obj[keys[i]];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

function shortSha(tag) {
  if (typeof tag !== 'string' || tag === '') return '—';
  return /^[0-9a-f]{40}$/.test(tag) ? tag.slice(0, 7) : tag;
}

/* "1d2h", "2h13m", "4m05s", "42s": the countdown to the market's next edge. */
function formatCountdown(ms) {
  if (typeof ms !== 'number' || !isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  var s = Math.floor(ms / 1000);
  var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  var m = Math.floor(s % 3600 / 60), sec = s % 60;
  function two(n) { return (n < 10 ? '0' : '') + n; }
  if (d > 0) return d + 'd' + h + 'h';
  if (h > 0) return h + 'h' + two(m) + 'm';
  if (m > 0) return m + 'm' + two(sec) + 's';
  return sec + 's';
}

function parseTime(t) {
  if (typeof t !== 'string') return NaN;
  return Date.parse(t);
}

/* The server's clock: the market's next edge minus the seconds left to it
 * (docs/api.md), so a client with a wrong clock still counts down right. */
function serverNow(status, clientNow) {
  var m = status && status.market;
  var next = parseTime(m && m.next_change);
  if (!isNaN(next) && typeof m.countdown_s === 'number') return next - m.countdown_s * 1000;
  return clientNow;
}

/* The market as the page shows it: open or closed, why, and when that
 * changes, relative to now (server time). */
function marketView(market, nowMs) {
  if (!market) return { open: false, known: false, label: 'UNKNOWN', reason: 'the daemon cannot evaluate the window', countdown: '', left: null };
  var open = !!market.open;
  var next = parseTime(market.next_change);
  var left = isNaN(next) ? null : next - nowMs;
  return {
    open: open,
    known: true,
    label: open ? 'OPEN' : 'CLOSED',
    reason: pick(market, ['reason_text', 'reason']) || '',
    countdown: left === null ? '' : (open ? 'closes in ' : 'opens in ') + formatCountdown(left),
    left: left
  };
}

/* Block/allow for one stage: a market-gated stage is blocked while the
 * market is open (break-glass aside). */
function gateView(stage, market) {
  if (!stage || !stage.market_gated) return null;
  if (!market) return { blocked: true, text: 'UNKNOWN (market window unavailable)' };
  return market.open ? { blocked: true, text: 'BLOCKED (market open)' }
    : { blocked: false, text: 'ALLOWED (market closed)' };
}

var NO_TAG = /^0{40}$/;

/* The newest release (by first_seen) that passes test(r). */
function newestRelease(status, test) {
  var best = null;
  ((status && status.releases) || []).forEach(function (r) {
    if (!r || !test(r)) return;
    if (!best || String(r.first_seen || '') > String(best.first_seen || '')) best = r;
  });
  return best;
}

/* What an evidence stage shows: the newest complete release (ci) and the
 * newest with an integration-test verdict (unreadable evidence included). */
function evidenceRow(name, status) {
  if (name === 'ci') {
    var r = newestRelease(status, function (x) { return x.complete; });
    return { tag: r ? r.sha : '', status: r ? 'release complete (' + r.images_present + '/' + r.images_total + ' images)' : 'no complete release seen' };
  }
  var e = newestRelease(status, function (x) {
    return x.evidence === 'passed' || x.evidence === 'failed' || x.evidence === 'unreadable';
  });
  var any = newestRelease(status, function () { return true; });
  // unreadable evidence reads as the daemon words it: "evidence unreadable: why"
  if (e && e.evidence === 'unreadable') return { tag: e.sha, status: e.evidence_summary || 'evidence unreadable' };
  if (e) return { tag: e.sha, status: e.evidence + (e.evidence_summary ? ' — ' + e.evidence_summary : '') };
  return { tag: '', status: any && any.evidence === 'disabled' ? 'evidence not required' : 'no result yet' };
}

/* What Argo CD runs at a deploy stage (docs/api.md "deployed"), or null
 * when nothing follows it.  tone: ok (deployed), bad (sync-failed,
 * degraded: shown in red with Argo CD's message), warn (the others). */
function deployedView(d) {
  if (!d || !d.verdict) return null;
  var tone = d.verdict === 'deployed' ? 'ok'
    : (d.verdict === 'sync-failed' || d.verdict === 'degraded') ? 'bad' : 'warn';
  var op = d.operation || {};
  var msg = d.verdict === 'sync-failed' && op.message ? op.message : (d.reason || '');
  var secs = typeof d.commit_to_healthy_s === 'number' ? d.commit_to_healthy_s : null;
  var time = '';
  if (secs !== null) time = 'Healthy ' + formatCountdown(secs * 1000) + ' after the promotion commit';
  else if (d.promotion) time = 'Promotion ' + shortSha(d.promotion) + ' not deployed yet';
  return {
    verdict: d.verdict, tone: tone, application: d.application || '',
    text: 'Argo CD: ' + d.verdict.toUpperCase(),
    message: d.verdict === 'deployed' ? '' : msg,
    since: d.since || '', revision: d.revision || '',
    images: (d.images_ok || 0) + '/' + (d.images_total || 0),
    /* only a web link is a link: the daemon builds it from [argocd] url */
    url: typeof d.url === 'string' && /^https?:\/\//.test(d.url) ? d.url : '',
    healthy_after_s: secs, time: time
  };
}

/* Desired (Git) next to deployed (Argo CD), in words for the card. */
function runningText(row) {
  var d = row.deployed;
  if (!d) return '';
  if (d.verdict === 'deployed') return shortSha(row.tag) + ' (synced ' + shortSha(d.revision) + ')';
  return d.revision ? 'synced ' + shortSha(d.revision) + ', ' + d.images + ' images on ' + shortSha(row.tag)
    : 'not known (' + d.verdict + ')';
}

/* The five stages in pipeline order, whatever the API listed. */
function stageRows(status) {
  var byName = {};
  ((status && status.stages) || []).forEach(function (s) { if (s && s.name) byName[s.name] = s; });
  return STAGES.map(function (name) {
    var s = byName[name] || {};
    var p = s.promoted || {};
    var deploy = !!DEPLOY[name];
    var ev = deploy ? null : evidenceRow(name, status);
    var tag = deploy ? (s.current_tag || '') : ev.tag;
    var st;
    if (s.enabled === false) st = 'disabled';
    else if (!deploy) st = ev.status;
    else if (s.blocked) st = 'blocked';
    else st = (s.auto ? 'automatic' : 'on request') + (s.market_gated ? ', market-gated' : '');
    return {
      name: name,
      enabled: s.enabled !== false,
      deploy: deploy,
      market_gated: !!s.market_gated,
      tag: NO_TAG.test(tag) ? '' : tag,
      source: s.source_stage || '',
      promoted_by: p.requested_by || '',
      promoted_at: p.time || '',
      status: st,
      blocked: deploy && !!s.blocked,
      blocked_reason: (deploy && s.blocked && s.blocked_reason) || '',
      deployed: deploy ? deployedView(s.deployed) : null,
      quiet: deploy ? quietText(s.quiet) : '',
      // issue 14 item 4: where Roll back goes (the daemon's default target),
      // and the latest promotion's rollback record
      rollback_to: deploy && s.rollback_to && !NO_TAG.test(s.rollback_to) ? s.rollback_to : '',
      rollback_during_market: deploy && !!s.rollback_during_market,
      rollback: deploy && p.rollback ? { from: p.rollback.from || '', reason: p.rollback.reason || '' } : null
    };
  });
}

/* A market-gated stage's guard bands (quietBefore, quietAfter): its quiet
 * span now or next, in the status document's UTC times. */
function quietText(q) {
  if (!q) return '';
  function dur(s) {
    return !s ? '0s' : s % 3600 === 0 ? (s / 3600) + 'h' : s % 60 === 0 ? (s / 60) + 'm' : s + 's';
  }
  return (q.in ? 'now, until ' + q.until : 'next ' + q.from + ' to ' + q.until) +
    ' (' + dur(q.before_s) + ' before the open, ' + dur(q.after_s) + ' after the close)';
}

/* The tag a promotion into stage would most likely take: the source
 * stage's (nearest enabled deploy stage before it, else the newest release). */
function suggestedTag(rows, stageName, status) {
  var idx = STAGES.indexOf(stageName);
  for (var i = idx - 1; i >= 0; i--) {
    if (rows[i].enabled && rows[i].tag) return rows[i].tag;
  }
  return '';
}

var HISTORY_FIELDS = [
  ['time', ['time']],
  ['stage', ['stage']],
  ['source', ['source_stage']],
  ['tag', ['tag']],
  ['requested_by', ['requested_by']],
  ['request', ['request']],
  ['notes', ['notes']],
  ['break_glass', ['break_glass']],
  ['market', ['market']],
  ['integration_test', ['integration_test']],
  ['signed_by', ['signed_by']],
  ['approved_by', ['approved_by']]
];

function historyRows(history) {
  var list = (history && history.entries) || [];
  return list.map(function (e) {
    var row = {};
    HISTORY_FIELDS.forEach(function (f) {
      var v = pick(e, f[1]);
      row[f[0]] = v === undefined || v === null ? '' : Array.isArray(v) ? v.join('; ') : String(v);
    });
    return row;
  });
}

function pendingRows(status) {
  return ((status && status.requests) || []).map(function (r) {
    return {
      branch: r.branch || '',
      stage: r.stage || '(malformed)',
      tag: r.tag || '',
      state: r.state || '',
      code: r.code || '',
      message: r.message || '',
      since: r.since || '',
      commit: r.commit || '',
      approvals: r.approvals || null
    };
  });
}

function sameText(a, b, nocase) {
  if (!a || !b) return false;
  return nocase ? String(a).toLowerCase() === String(b).toLowerCase() : a === b;
}

/* Issue 14 item 3: the Approve button of one pending row for the operator
 * logged in (name and email from /api/v1/csrf; null before login).
 * show: the request waits approval-required and the dashboard may approve;
 * enabled: false for its requester or an operator who approved already,
 * with why.  The daemon decides again; this only saves a refusal. */
function approveView(row, operator, email) {
  var a = row && row.approvals;
  var v = { show: false, enabled: false, why: '', count: '' };
  if (!a) return v;
  var given = a.given || [];
  v.count = given.length + ' of ' + a.needed + ' approval' + (a.needed === 1 ? '' : 's');
  if (row.code !== 'approval-required' || !a.dashboard) return v;
  v.show = true;
  if (operator || email) {
    if (sameText(email, a.author, true) || sameText(email, a.signer, true) ||
        sameText(operator, a.signer, false)) {
      v.why = 'You requested this: someone else must approve it.';
      return v;
    }
    if (given.some(function (g) { return sameText(email, g.email, true); })) {
      v.why = 'You approved this already.';
      return v;
    }
  }
  v.enabled = true;
  return v;
}

/* The confirmation the Approve dialog shows. */
function approveSummary(row) {
  var a = row.approvals || {};
  return 'Approve ' + row.branch + ': ' + row.stage + ' to ' + shortSha(row.tag) + ' (' +
    row.tag + '), requested by ' + (a.author || 'unknown') +
    (a.signer ? ' (signed by ' + a.signer + ')' : '') + '.';
}

/* "registry: connection refused (3 failures)" for each failing subsystem. */
function errorLines(status) {
  var errs = (status && status.errors) || {};
  return Object.keys(errs).filter(function (k) { return errs[k] && errs[k].message; })
    .map(function (k) {
      var e = errs[k];
      return k + ': ' + e.message + (e.failures > 1 ? ' (' + e.failures + ' failures)' : '') +
        (e.at ? ' at ' + e.at : '');
    });
}

/* Freezes (issue 14 item 1): one row per freeze in force or to come. */
function freezeRows(status) {
  var f = status && status.freezes;
  if (!f || !f.file) return [];
  function row(state) {
    return function (e) {
      return {
        state: state, id: e.id,
        stages: e.all ? 'all' : (e.stages || []).join(', '),
        reason: e.reason || '',
        start: e.start || (state === 'FROZEN' ? 'in force' : '—'),
        end: e.end || 'until lifted',
        break_glass: e.break_glass ? 'allowed' : 'denied'
      };
    };
  }
  return (f.active || []).map(row('FROZEN')).concat((f.upcoming || []).map(row('upcoming')));
}

/* The freeze file's parse error and what stays in force, or ''. */
function freezeError(status) {
  var f = status && status.freezes;
  if (!f || !f.error) return '';
  return f.file + ' does not parse (' + (f.in_force || 'nothing in force') + '): ' + f.error;
}

/* What the promote API is sent; null break-glass means none. */
function promoteBody(stage, tag, notes, justification) {
  var body = { stage: stage, tag: tag.trim(), notes: notes || '' };
  if (justification !== undefined && justification !== null) body.break_glass = justification;
  return body;
}

/* What the promote API is sent for the Roll back button: a request for
 * the release to go back to, with the reason (a Rollback: trailer). */
function rollbackBody(stage, tag, reason, notes, justification) {
  var body = promoteBody(stage, tag, notes, justification);
  body.rollback = reason;
  return body;
}

/* The confirmation the Roll back dialog shows. */
function rollbackSummary(row) {
  return 'Roll ' + row.name + ' back from ' + (shortSha(row.tag) || 'nothing') + ' to ' +
    shortSha(row.rollback_to) + ' (' + row.rollback_to + ').';
}

// What the daemon counts as no visible text (trailer_text_blank): whitespace,
// controls, zero-width and other invisible characters.  The daemon decides;
// this only saves a round trip.
var INVISIBLE = /[\s\u0000-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/g;

function visibleText(text) {
  return typeof text === 'string' && text.replace(INVISIBLE, '').length > 0;
}

function justificationOk(text) {
  return visibleText(text) && text.length <= 1024;
}

if (typeof module !== 'undefined' && module.exports) {
  module.exports = {
    shortSha: shortSha, formatCountdown: formatCountdown, marketView: marketView,
    gateView: gateView, stageRows: stageRows, historyRows: historyRows,
    pendingRows: pendingRows, promoteBody: promoteBody, justificationOk: justificationOk,
    visibleText: visibleText,
    suggestedTag: suggestedTag, serverNow: serverNow, errorLines: errorLines,
    deployedView: deployedView, runningText: runningText,
    freezeRows: freezeRows, freezeError: freezeError,
    quietText: quietText,
    rollbackBody: rollbackBody, rollbackSummary: rollbackSummary,
    approveView: approveView, approveSummary: approveSummary
  };
}

/* ---- the page ---- */

if (typeof document !== 'undefined') (function () {
  var state = {
    status: null, skewMs: 0, user: null, password: null, token: null,
    operator: null, email: null, writes: null, target: null, rollbackTo: null,
    approving: null
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function notice(text, isError) {
    var n = $('notice');
    n.textContent = text || '';
    n.className = isError ? 'error' : '';
  }

  function authHeaders(extra) {
    var h = { 'X-Requested-With': 'pipelined-dashboard' };
    if (state.user !== null)
      h.Authorization = 'Basic ' + btoa(unescape(encodeURIComponent(state.user + ':' + state.password)));
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
        return r.json();
      });
  }

  function renderMarket() {
    var st = state.status;
    if (!st) return;
    var now = Date.now() + state.skewMs;
    var v = marketView(st.market, now);
    var box = $('market');
    box.className = 'market ' + (v.open ? 'open' : 'closed');
    $('market-state').textContent = 'Market ' + v.label + (v.reason ? ' — ' + v.reason : '');
    $('market-countdown').textContent = v.countdown ? '(' + v.countdown + ')' : '';
    var gate = gateView({ market_gated: true }, st.market);
    document.querySelectorAll('[data-gate]').forEach(function (g) {
      g.textContent = gate.text + (v.countdown ? ' — ' + v.countdown : '');
      g.className = 'gate ' + (gate.blocked ? 'blocked' : 'allowed');
    });
  }

  function stageCard(row, rows) {
    var li = el('li', null, 'stage ' + (row.enabled ? 'enabled' : 'disabled'));
    li.setAttribute('aria-label', 'Stage ' + row.name);
    li.appendChild(el('h3', row.name));
    li.appendChild(el('p', row.enabled ? 'Enabled' : 'Disabled', 'flag'));
    var dl = el('dl');
    function item(k, v, title) {
      dl.appendChild(el('dt', k));
      var dd = el('dd', v);
      if (title) dd.title = title;
      dl.appendChild(dd);
    }
    item(row.deployed ? 'Desired' : 'Tag', shortSha(row.tag), row.tag);
    if (row.deployed) item('Deployed', runningText(row), row.deployed.revision);
    item('Promoted by', row.promoted_by || '—');
    item('When', row.promoted_at || '—');
    item('Status', row.status);
    if (row.rollback) item('Rollback', 'from ' + shortSha(row.rollback.from) + ': ' + row.rollback.reason,
      row.rollback.from);
    if (row.source) item('Source', row.source);
    if (row.quiet) item('Quiet', row.quiet);
    if (row.deployed) {
      item('Argo CD', row.deployed.verdict + (row.deployed.since ? ' since ' + row.deployed.since : ''),
        row.deployed.application);
      item('Images', row.deployed.images);
    }
    li.appendChild(dl);
    if (row.deployed) {
      var dp = el('p', row.deployed.text, 'deployed ' + row.deployed.tone);
      dp.setAttribute('data-deployed', row.name);
      li.appendChild(dp);
      if (row.deployed.message) {
        var dm = el('p', row.deployed.message, 'deployed-message ' + row.deployed.tone);
        dm.setAttribute('data-deployed-message', row.name);
        li.appendChild(dm);
      }
      if (row.deployed.time) {
        var dt = el('p', row.deployed.time, 'deployed-time');
        dt.setAttribute('data-deployed-time', row.name);
        li.appendChild(dt);
      }
      if (row.deployed.url) {
        var a = el('a', 'Open ' + (row.deployed.application || 'the Application') + ' in Argo CD', 'deployed-link');
        a.href = row.deployed.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.setAttribute('data-deployed-link', row.name);
        li.appendChild(a);
      }
    }
    if (row.blocked) {
      // a permanent failure: nothing is retried until Git or the config changes
      var bl = el('p', 'Blocked: ' + (row.blocked_reason || 'see pipelinectl status'), 'gate blocked');
      bl.setAttribute('data-blocked', row.name);
      li.appendChild(bl);
    }
    var gate = row.enabled ? gateView(row, state.status.market) : null;
    if (gate) {
      var g = el('p', gate.text, 'gate');
      g.setAttribute('data-gate', row.name);
      li.appendChild(g);
    }
    if (row.deploy && row.enabled) {
      var actions = el('div', null, 'actions');
      var b = el('button', 'Promote…');
      b.type = 'button';
      b.setAttribute('aria-label', 'Promote a release to ' + row.name);
      b.addEventListener('click', function () { openPromote(row.name, false, rows); });
      actions.appendChild(b);
      if (row.rollback_to && row.tag) {
        var rb = el('button', 'Roll back…', 'danger');
        rb.type = 'button';
        rb.setAttribute('aria-label', 'Roll ' + row.name + ' back to ' + shortSha(row.rollback_to));
        rb.addEventListener('click', function () { openRollback(row); });
        actions.appendChild(rb);
      }
      if (row.market_gated) {
        var bg = el('button', 'Break-Glass…', 'danger');
        bg.type = 'button';
        bg.setAttribute('aria-label', 'Break-Glass promotion to ' + row.name);
        bg.addEventListener('click', function () { openPromote(row.name, true, rows); });
        actions.appendChild(bg);
      }
      li.appendChild(actions);
    }
    return li;
  }

  function renderStages() {
    var rows = stageRows(state.status);
    var ol = $('pipeline');
    ol.replaceChildren.apply(ol, rows.map(function (r) { return stageCard(r, rows); }));
  }

  function fillTable(id, rows, keys) {
    var tbody = $(id).querySelector('tbody');
    var trs = rows.map(function (r) {
      var tr = el('tr');
      keys.forEach(function (k) {
        var td = el('td', k === 'tag' ? shortSha(r[k]) : r[k]);
        if (k === 'tag' && r[k]) td.title = r[k];
        tr.appendChild(td);
      });
      return tr;
    });
    if (!trs.length) {
      var tr = el('tr');
      var td = el('td', 'None');
      td.colSpan = keys.length;
      tr.appendChild(td);
      trs = [tr];
    }
    tbody.replaceChildren.apply(tbody, trs);
  }

  function renderPending() {
    var rows = pendingRows(state.status);
    var keys = ['branch', 'stage', 'tag', 'state', 'code', 'message', 'since'];
    fillTable('pending', rows, keys);
    // the Approve column (issue 14 item 3)
    var trs = $('pending').querySelectorAll('tbody tr');
    rows.forEach(function (r, i) {
      var td = el('td'), v = approveView(r, state.operator, state.email);
      if (v.count) td.appendChild(el('span', v.count, 'approvals'));
      if (v.show) {
        var b = el('button', 'Approve');
        b.className = 'approve';
        b.setAttribute('aria-label', 'Approve ' + r.branch);
        b.disabled = !v.enabled;
        if (v.why) { b.title = v.why; td.appendChild(el('span', v.why, 'why')); }
        b.addEventListener('click', function () { openApprove(r); });
        td.appendChild(b);
      }
      if (trs[i]) trs[i].appendChild(td);
    });
    var errs = errorLines(state.status);
    var ul = $('errors');
    ul.replaceChildren.apply(ul, errs.length ? errs.map(function (t) { return el('li', t); })
      : [el('li', 'None')]);
  }

  function renderFreezes() {
    var rows = freezeRows(state.status), err = freezeError(state.status);
    var f = state.status && state.status.freezes;
    $('freezes-section').hidden = !(f && f.file);
    fillTable('freezes', rows, ['state', 'id', 'stages', 'reason', 'start', 'end', 'break_glass']);
    $('freezes-error').textContent = err;
    $('freezes-error').hidden = !err;
  }

  function refreshHistory() {
    var stage = $('history-stage').value;
    return getJSON('/api/v1/history?stage=' + encodeURIComponent(stage)).then(function (h) {
      fillTable('history', historyRows(h), HISTORY_FIELDS.map(function (f) { return f[0]; }));
    });
  }

  function refresh() {
    return getJSON('/api/v1/status').then(function (st) {
      var client = Date.now();
      state.skewMs = serverNow(st, client) - client;
      state.status = st;
      renderStages();
      renderPending();
      renderFreezes();
      renderMarket();
      $('updated').textContent = new Date().toLocaleTimeString();
      return refreshHistory();
    }).catch(function (e) { notice('Cannot load the status: ' + e.message, true); });
  }

  function showOperator() {
    $('operator-name').textContent = state.operator ? 'Operator: ' + state.operator
      : state.writes === false ? 'Read-only' : 'Not logged in';
    $('login-button').hidden = !!state.operator || state.writes === false;
  }

  /* Ask for a CSRF token: proves the credentials (or the proxy's header). */
  function fetchToken() {
    return fetch('/api/v1/csrf', { headers: authHeaders(), cache: 'no-store' }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 200) {
          state.token = j.token;
          state.operator = j.operator;
          state.email = j.email || null;
          state.writes = true;
        } else if (r.status === 403) {
          state.writes = false;
          notice(j.error || 'Write actions are disabled', false);
        } else {
          state.token = null;
          state.operator = null;
          state.email = null;
        }
        showOperator();
        renderPending();
        return { status: r.status, error: j.error };
      });
    });
  }

  function openDialog(d, focusId) {
    if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', '');
    $(focusId).focus();
  }

  function closeDialog(d) {
    if (typeof d.close === 'function') d.close(); else d.removeAttribute('open');
  }

  function login() {
    return new Promise(function (resolve) {
      var d = $('login-dialog');
      $('login-error').textContent = '';
      openDialog(d, 'login-user');
      $('login-form').onsubmit = function (ev) {
        ev.preventDefault();
        state.user = $('login-user').value;
        state.password = $('login-password').value;
        fetchToken().then(function (res) {
          if (res.status === 200) { closeDialog(d); resolve(true); return; }
          state.user = state.password = null;
          $('login-error').textContent = res.error || ('Login failed (HTTP ' + res.status + ')');
        });
      };
      $('login-cancel').onclick = function () { closeDialog(d); resolve(false); };
    });
  }

  function ensureOperator() {
    if (state.token) return Promise.resolve(true);
    if (state.writes === false) return Promise.resolve(false);
    return fetchToken().then(function (res) {
      if (res.status === 200) return true;
      if (res.status === 403) return false;
      return login();
    });
  }

  function openPromote(stage, breakGlass, rows) {
    ensureOperator().then(function (ok) {
      if (!ok) return;
      state.target = stage;
      var prefix = breakGlass ? 'bg' : 'promote';
      $(prefix + '-tag').value = suggestedTag(rows, stage, state.status);
      $(prefix + '-error').textContent = '';
      if (breakGlass) $('bg-justification').value = '';
      $(breakGlass ? 'bg-title' : 'promote-title').textContent =
        (breakGlass ? 'Break-Glass promotion to ' : 'Promote to ') + stage;
      openDialog($(prefix + '-dialog'), prefix + '-tag');
    });
  }

  function openRollback(row) {
    ensureOperator().then(function (ok) {
      if (!ok) return;
      state.target = row.name;
      state.rollbackTo = row.rollback_to;
      $('rb-title').textContent = 'Roll back ' + row.name;
      $('rb-summary').textContent = rollbackSummary(row);
      $('rb-market').textContent = !row.market_gated ? '' : row.rollback_during_market
        ? row.name + ' allows rollbacks while the market is open (rollbackDuringMarket = allow).'
        : 'While the market is open, ' + row.name + ' needs a Break-Glass justification, or the request waits for the close.';
      $('rb-bg-row').hidden = !row.market_gated;
      ['rb-reason', 'rb-notes', 'rb-justification'].forEach(function (id) { $(id).value = ''; });
      $('rb-error').textContent = '';
      openDialog($('rb-dialog'), 'rb-reason');
    });
  }

  function openApprove(row) {
    ensureOperator().then(function (ok) {
      if (!ok) return;
      var v = approveView(row, state.operator, state.email);
      if (!v.enabled) { notice(v.why || 'This request takes no approval now.', true); return; }
      state.approving = row;
      $('ap-summary').textContent = approveSummary(row);
      $('ap-error').textContent = '';
      openDialog($('ap-dialog'), 'ap-submit');
    });
  }

  function submitApprove() {
    var row = state.approving;
    if (!row) return Promise.resolve();
    return fetch('/api/v1/approve', {
      method: 'POST',
      headers: authHeaders({ 'Content-Type': 'application/json', 'X-CSRF-Token': state.token || '' }),
      body: JSON.stringify({ branch: row.branch, commit: row.commit })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 202 || r.status === 200) {
          closeDialog($('ap-dialog'));
          notice('Approved ' + row.branch + ' (approval ' + shortSha(j.approval || '') +
                 ') — the daemon judges it on its next cycle.');
          refresh();
          return;
        }
        if (r.status === 401 || r.status === 403) state.token = null;
        $('ap-error').textContent = j.error || ('HTTP ' + r.status);
      });
    }).catch(function (e) { $('ap-error').textContent = e.message; });
  }

  function submitPromote(body, errId, dialog) {
    return fetch('/api/v1/promote', {
      method: 'POST',
      headers: authHeaders({ 'Content-Type': 'application/json', 'X-CSRF-Token': state.token || '' }),
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 202 || r.status === 200) {
          closeDialog(dialog);
          notice('Requested: branch ' + (j.branch || '?') + ' — the daemon applies its gates; ' +
                 'watch Pending requests.');
          refresh();
          return;
        }
        if (r.status === 401 || r.status === 403) state.token = null;
        $(errId).textContent = j.error || ('HTTP ' + r.status);
      });
    }).catch(function (e) { $(errId).textContent = e.message; });
  }

  function wire() {
    $('login-button').addEventListener('click', function () { login(); });
    $('history-stage').addEventListener('change', function () { refreshHistory().catch(function () {}); });
    $('promote-cancel').addEventListener('click', function () { closeDialog($('promote-dialog')); });
    $('bg-cancel').addEventListener('click', function () { closeDialog($('bg-dialog')); });
    $('rb-cancel').addEventListener('click', function () { closeDialog($('rb-dialog')); });
    $('ap-cancel').addEventListener('click', function () { closeDialog($('ap-dialog')); });
    $('ap-form').addEventListener('submit', function (ev) { ev.preventDefault(); submitApprove(); });
    $('rb-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var reason = $('rb-reason').value, just = $('rb-justification').value;
      if (!visibleText(reason) || reason.length > 1024) {
        $('rb-error').textContent = 'A written reason is required for a rollback.';
        $('rb-reason').focus();
        return;
      }
      if (visibleText(just) && !justificationOk(just)) {
        $('rb-error').textContent = 'The Break-Glass justification is longer than 1024 characters.';
        return;
      }
      submitPromote(rollbackBody(state.target, state.rollbackTo, reason, $('rb-notes').value,
        visibleText(just) ? just : null), 'rb-error', $('rb-dialog'));
    });
    $('promote-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      submitPromote(promoteBody(state.target, $('promote-tag').value, $('promote-notes').value),
        'promote-error', $('promote-dialog'));
    });
    $('bg-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var just = $('bg-justification').value;
      if (!justificationOk(just)) {
        $('bg-error').textContent = 'A written justification is required for Break-Glass.';
        $('bg-justification').focus();
        return;
      }
      submitPromote(promoteBody(state.target, $('bg-tag').value, $('bg-notes').value, just),
        'bg-error', $('bg-dialog'));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    wire();
    refresh();
    fetchToken().catch(function () {});
    setInterval(refresh, REFRESH_MS);
    setInterval(renderMarket, 1000);
  });
})();
