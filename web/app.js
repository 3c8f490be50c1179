/* pipelined dashboard: reads /api/v1/status and /api/v1/history, writes
 * through /api/v1/promote.  Every string from the API goes into the page
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

/* The market as the page shows it: open or closed, why, and when that
 * changes, relative to now (server time). */
function marketView(market, nowMs) {
  var open = !!(market && market.open);
  var next = parseTime(pick(market, ['next_change', 'next']));
  var left = isNaN(next) ? null : next - nowMs;
  return {
    open: open,
    label: open ? 'OPEN' : 'CLOSED',
    reason: pick(market, ['reason', 'state', 'text']) || '',
    countdown: left === null ? '' : (open ? 'closes in ' : 'opens in ') + formatCountdown(left),
    left: left
  };
}

/* Block/allow for one stage: a market-gated stage is blocked while the
 * market is open (break-glass aside). */
function gateView(stage, market) {
  if (!stage || !stage.market_gated) return null;
  var open = !!(market && market.open);
  return { blocked: open, text: open ? 'BLOCKED (market open)' : 'ALLOWED (market closed)' };
}

/* The five stages in pipeline order, whatever the API listed. */
function stageRows(status) {
  var list = (status && status.stages) || [];
  var byName = {};
  if (Array.isArray(list)) {
    list.forEach(function (s) { if (s && s.name) byName[s.name] = s; });
  } else {
    Object.keys(list).forEach(function (k) { byName[k] = Object.assign({ name: k }, list[k]); });
  }
  return STAGES.map(function (name) {
    var s = byName[name] || {};
    var cur = s.current || {};
    return {
      name: name,
      enabled: s.enabled !== false,
      deploy: !!DEPLOY[name],
      market_gated: !!s.market_gated,
      tag: pick(s, ['tag']) || pick(cur, ['tag']) || '',
      promoted_by: pick(s, ['promoted_by', 'requested_by']) || pick(cur, ['requested_by', 'promoted_by']) || '',
      promoted_at: pick(s, ['promoted_at', 'time']) || pick(cur, ['time', 'promoted_at']) || '',
      status: pick(s, ['status', 'state']) || (s.enabled === false ? 'disabled' : 'unknown'),
      message: pick(s, ['message', 'error', 'last_error']) || ''
    };
  });
}

/* The tag a promotion into stage would most likely take: the source
 * stage's (nearest enabled deploy stage before it, else the newest release). */
function suggestedTag(rows, stageName, status) {
  var idx = STAGES.indexOf(stageName);
  for (var i = idx - 1; i >= 0; i--) {
    if (!rows[i].enabled) continue;
    if (rows[i].tag) return rows[i].tag;
  }
  return pick(status, ['latest_release']) || '';
}

var HISTORY_FIELDS = [
  ['time', ['time', 'date', 'committed_at']],
  ['stage', ['stage']],
  ['source', ['source_stage', 'source']],
  ['tag', ['image_tag', 'tag']],
  ['requested_by', ['requested_by']],
  ['request', ['request']],
  ['notes', ['notes']],
  ['break_glass', ['break_glass']],
  ['market', ['market']],
  ['integration_test', ['integration_test']],
  ['signed_by', ['signed_by']]
];

function historyRows(history) {
  var list = Array.isArray(history) ? history : (history && (history.entries || history.history)) || [];
  return list.map(function (e) {
    var row = {};
    HISTORY_FIELDS.forEach(function (f) {
      var v = pick(e, f[1]);
      row[f[0]] = v === undefined ? '' : String(v);
    });
    return row;
  });
}

function pendingRows(status) {
  var list = (status && (status.pending || status.requests)) || [];
  return list.map(function (r) {
    return {
      branch: pick(r, ['branch']) || '',
      stage: pick(r, ['stage']) || '',
      tag: pick(r, ['tag', 'image_tag']) || '',
      requested_by: pick(r, ['requested_by', 'author']) || '',
      state: pick(r, ['state', 'status']) || '',
      code: pick(r, ['code', 'refusal_code']) || '',
      message: pick(r, ['message', 'refusal']) || ''
    };
  });
}

/* What the promote API is sent; null break-glass means none. */
function promoteBody(stage, tag, notes, justification) {
  var body = { stage: stage, tag: tag.trim(), notes: notes || '' };
  if (justification !== undefined && justification !== null) body.break_glass = justification;
  return body;
}

function justificationOk(text) {
  return typeof text === 'string' && text.trim().length > 0 && text.length <= 1024;
}

if (typeof module !== 'undefined' && module.exports) {
  module.exports = {
    shortSha: shortSha, formatCountdown: formatCountdown, marketView: marketView,
    gateView: gateView, stageRows: stageRows, historyRows: historyRows,
    pendingRows: pendingRows, promoteBody: promoteBody, justificationOk: justificationOk,
    suggestedTag: suggestedTag
  };
}

/* ---- the page ---- */

if (typeof document !== 'undefined') (function () {
  var state = {
    status: null, skewMs: 0, user: null, password: null, token: null,
    operator: null, writes: null, target: null
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
    document.querySelectorAll('[data-gate]').forEach(function (g) {
      var countdown = v.countdown ? ' — ' + v.countdown : '';
      g.textContent = (v.open ? 'BLOCKED (market open)' : 'ALLOWED (market closed)') + countdown;
      g.className = 'gate ' + (v.open ? 'blocked' : 'allowed');
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
    item('Tag', shortSha(row.tag), row.tag);
    item('Promoted by', row.promoted_by || '—');
    item('When', row.promoted_at || '—');
    item('Status', row.status);
    if (row.message) item('Message', row.message);
    li.appendChild(dl);
    var gate = gateView(row, state.status.market);
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
    fillTable('pending', pendingRows(state.status),
      ['branch', 'stage', 'tag', 'requested_by', 'state', 'code', 'message']);
  }

  function refreshHistory() {
    var stage = $('history-stage').value;
    return getJSON('/api/v1/history?stage=' + encodeURIComponent(stage)).then(function (h) {
      fillTable('history', historyRows(h), HISTORY_FIELDS.map(function (f) { return f[0]; }));
    });
  }

  function refresh() {
    return getJSON('/api/v1/status').then(function (st) {
      var server = Date.parse(st.now || st.generated_at || '');
      state.skewMs = isNaN(server) ? 0 : server - Date.now();
      state.status = st;
      renderStages();
      renderPending();
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
          state.writes = true;
        } else if (r.status === 403) {
          state.writes = false;
          notice(j.error || 'Write actions are disabled', false);
        } else {
          state.token = null;
          state.operator = null;
        }
        showOperator();
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
