/* 报名信息 (the application form): keeps the server-rendered form live. What the form offers
   (routes, 申报岗位工种, the 工作年限 maximum, which fields and uploads are required) is the
   service's answer to GET /api/v1/me/application/choices, asked again as those choices change:
   this script repeats no rule. Uploads go at once; 添加身份证号, 保存, 提交 (check first, then
   confirm), 删除本人信息, and the eligibility panel (申报条件检查).
   Talks only to the JSON API (/api/v1/me/application…); plain ES2020. */
(() => {
  'use strict';

  const page = document.getElementById('application-page');
  const dataEl = document.getElementById('application-data');
  if (!page || !dataEl) return;

  const DATA = JSON.parse(dataEl.textContent);
  const L = window.GK.labels();   // the application service's labels (files, routes, grade titles…)
  const TRADES = DATA.trades || [];
  const UNITS = DATA.units || [];
  const TRADE_BY_CODE = Object.fromEntries(TRADES.map((t) => [t.code, t]));
  const API = '/api/v1/me/application';
  const MAX_UPLOAD = 5 * 1024 * 1024;
  const CONFIRM_SUBMIT = '提交后信息不能被删除，也不能被修改，确认提交？';
  const CHOICE_FIELDS = ['current_grade', 'current_trade', 'route', 'target_trade', 'work_start'];
  const RESTAMP = '个人照片已更换，原添加身份证号的照片已失效，请重新点击“添加身份证号”';

  let state = DATA.form;          // the form as the server last returned it
  let choices = DATA.choices || {};   // what the form offers, as the server last answered
  let busy = false;

  const $ = (id) => document.getElementById(id);
  const formEl = $('application-form');
  const alertEl = $('form-alert');

  // --- the API: app.js's client (CSRF header, one error shape), plus the login/password
  // redirects and the upload-size wording this page wants ------------------------------------
  const { show, hide } = window.GK;

  /** Resolves to {ok, status, data}; never rejects. */
  async function api(method, url, body) {
    const result = await window.GK.api(method, url, body);
    if (result.status === 413 && result.data.error.code === 'http_413') {
      result.data.error.message = '上传文件不能超过5MB';
    }
    window.GK.handleAuthErrors(result);
    return result;
  }

  let toastTimer = null;
  function toast(text) {
    const el = $('toast');
    show(el, text);
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(() => hide(el), 2500);
  }

  function clearErrors() {
    formEl.querySelectorAll('[data-error-for]').forEach(hide);
    formEl.querySelectorAll('.has-error').forEach((el) => el.classList.remove('has-error'));
    hide(alertEl);
  }

  function fieldError(field, message) {
    const target = field && formEl.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!target) { formAlert(message); return; }
    show(target, message);
    const row = target.closest('[data-field]');
    if (row) row.classList.add('has-error');
    target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  function formAlert(message, items) {
    alertEl.replaceChildren();
    const head = document.createElement('p');
    head.className = 'alert-head';
    head.textContent = message;
    alertEl.appendChild(head);
    if (items && items.length) {
      const list = document.createElement('ul');
      for (const text of items) {
        const li = document.createElement('li');
        li.textContent = text;
        list.appendChild(li);
      }
      alertEl.appendChild(list);
    }
    alertEl.hidden = false;
    alertEl.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  // --- reading and writing the controls --------------------------------------------------
  const num = (v) => (v === '' || v == null ? null : Number(v));

  function workStart() {
    const y = $('f-work_start_year').value;
    const m = $('f-work_start_month').value;
    return y && m ? `${y}-${m}` : null;
  }

  function radioValue(name) {
    const el = formEl.querySelector(`input[name="${name}"]:checked`);
    return el ? el.value === 'true' : null;
  }

  /** The editable fields as the controls show them, or {error} when one cannot be sent. */
  function readForm() {
    const y = $('f-work_start_year').value;
    const m = $('f-work_start_month').value;
    if ((y && !m) || (!y && m)) return { error: { field: 'work_start', message: '请同时选择参加工作时间的年份和月份' } };
    const yearsText = $('f-service_years').value.trim();
    const years = num(yearsText);
    if (yearsText !== '' && (!Number.isInteger(years) || years < 0)) {
      return { error: { field: 'service_years', message: '工作年限应为不小于0的整数' } };
    }
    const max = choices.service_years_max;
    if (years != null && max != null && years > max) {
      return { error: { field: 'service_years', message: `工作年限最大值为${max}年，只允许往下修改` } };
    }
    return {
      body: {
        unit_id: $('f-unit_id').value || null,
        education: $('f-education').value || null,
        work_start: workStart(),
        service_years: years,
        current_grade: num($('f-current_grade').value),
        current_trade: $('f-current_trade').value || null,
        grade_obtained_year: num($('f-grade_obtained_year').value),
        target_trade: $('f-target_trade').value || null,
        route: $('f-route').value || null,
        exceptional: $('f-exceptional').checked,
        frontline: $('f-frontline').checked,
        // only a 一级 form has the box (a field left out of a save keeps its value)
        exceptional_reason: $('f-exceptional_reason') ? $('f-exceptional_reason').value.trim() : undefined,
        prohibited: radioValue('prohibited'),
        pledge: $('f-pledge').checked,
      },
    };
  }

  /** The controls the choices depend on, as query parameters (empty: not chosen). */
  function choiceQuery() {
    const values = {
      current_grade: $('f-current_grade').value,
      current_trade: $('f-current_trade').value,
      route: $('f-route').value,
      target_trade: $('f-target_trade').value,
      work_start: workStart() || '',
    };
    return new URLSearchParams(CHOICE_FIELDS.map((k) => [k, values[k]])).toString();
  }

  function setSelect(el, value) {
    const v = value == null ? '' : String(value);
    if (v && ![...el.options].some((o) => o.value === v)) {
      const opt = document.createElement('option');
      opt.value = v;
      opt.textContent = v;
      el.appendChild(opt);
    }
    el.value = v;
  }

  /** Puts the saved values into the controls (after 保存). */
  function fillForm(f) {
    setSelect($('f-unit_id'), f.unit_id);
    setSelect($('f-education'), f.education);
    const [y, m] = (f.work_start || '-').split('-');
    setSelect($('f-work_start_year'), y);
    setSelect($('f-work_start_month'), m);
    $('f-service_years').value = f.service_years == null ? '' : String(f.service_years);
    setSelect($('f-current_grade'), f.current_grade);
    setSelect($('f-current_trade'), f.current_trade);
    setSelect($('f-grade_obtained_year'), f.grade_obtained_year);
    $('f-exceptional').checked = !!f.exceptional;
    $('f-frontline').checked = !!f.frontline;
    if ($('f-exceptional_reason')) $('f-exceptional_reason').value = f.exceptional_reason || '';
    formEl.querySelectorAll('input[name=prohibited]').forEach((r) => {
      r.checked = f.prohibited != null && r.value === String(f.prohibited);
    });
    $('f-pledge').checked = !!f.pledge;
    setSelect($('f-route'), f.route);
    setSelect($('f-target_trade'), f.target_trade);
    syncUnit();
    syncExceptional();
  }

  // --- dependent parts: the service's choices ---------------------------------------------
  function syncUnit() {
    const unit = UNITS.find((u) => u.unit_id === $('f-unit_id').value);
    const box = $('unit-supervisor');
    $('unit-supervisor-name').textContent = unit && unit.supervisor ? unit.supervisor.name : '';
    box.hidden = !(unit && unit.supervisor);
  }

  function syncServiceYears(max, toMax) {
    const input = $('f-service_years');
    if (max == null) input.removeAttribute('max');
    else input.max = String(max);
    $('service-years-max').textContent = max == null ? '' : `（最大值${max}）`;
    if (toMax && max != null) input.value = String(max);   // 工作年限 defaults to its maximum
  }

  function syncRoutes(routes) {
    const el = $('f-route');
    const chosen = el.value;
    const options = [['', '请选择'], ...routes.map((r) => [r, L.routes[r] || r])];
    el.replaceChildren(...options.map(([v, t]) => new Option(t, v)));
    if (routes.includes(chosen)) el.value = chosen;
    else if (routes.length === 1) el.value = routes[0];
    else el.value = '';
  }

  /** 申报岗位工种: null = free choice; a list = only those (the chosen one stays, marked). */
  function syncTargetTrades(codes, note) {
    const el = $('f-target_trade');
    const chosen = el.value;
    const groups = new Map();
    for (const t of TRADES) {
      if (codes && !codes.includes(t.code) && t.code !== chosen) continue;
      const key = t.category || '其他';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(t);
    }
    const nodes = [new Option('请选择', '')];
    for (const [category, list] of groups) {
      const group = document.createElement('optgroup');
      group.label = category;
      for (const t of list) {
        const outside = codes && !codes.includes(t.code);
        group.appendChild(new Option(outside ? `${t.name}（不可选）` : t.name, t.code));
      }
      nodes.push(group);
    }
    el.replaceChildren(...nodes);
    el.value = chosen && TRADE_BY_CODE[chosen] ? chosen : '';
    if (note) show($('target-trade-note'), note);
    else hide($('target-trade-note'));
  }

  function star(field) {
    return formEl.querySelector(`[data-field="${field}"] > .field-label > .req`);
  }

  /** The required marks (*) the service's answer asks for. */
  function syncRequired(c) {
    const trade = star('current_trade');
    if (trade) trade.hidden = !c.current_trade_required;
    const year = star('grade_obtained_year');
    if (year) year.hidden = !c.grade_obtained_year_required;
    const files = c.required_files || [];
    formEl.querySelectorAll('[data-req-file]').forEach((el) => { el.hidden = !files.includes(el.dataset.reqFile); });
  }

  function syncCertificateText() {
    const title = L.grade_titles[$('f-current_grade').value];
    $('grade-certificate-text').textContent = title
      ? `需上传${title}工勤岗位等级证书原件照片。`
      : '需上传现岗位等级证书原件照片。';
  }

  function syncExceptional() {
    const box = $('exceptional-reason-box');   // only on a 一级 form
    if (box) box.hidden = !$('f-exceptional').checked;
  }

  function applyChoices(c, toMax) {
    choices = c;
    syncRoutes(c.routes || []);
    syncTargetTrades(c.target_trades, c.target_trade_note);
    syncServiceYears(c.service_years_max, toMax);
    syncRequired(c);
  }

  // Asked again (debounced) when a control the choices depend on changes; only the answer to
  // the latest question is applied. ``settled`` resolves once no question is pending.
  let askTimer = null;
  let asked = 0;
  let wantMax = false;
  let pending = null;
  let release = null;

  function askChoices(toMax) {
    wantMax = wantMax || !!toMax;
    if (!pending) pending = new Promise((resolve) => { release = resolve; });
    window.clearTimeout(askTimer);
    askTimer = window.setTimeout(async () => {
      const mine = ++asked;
      const r = await api('GET', `${API}/choices?${choiceQuery()}`);
      if (mine !== asked) return;            // a later question is on its way
      if (r.ok) applyChoices(r.data, wantMax);
      wantMax = false;
      const done = release;
      pending = null;
      release = null;
      done();
    }, 250);
  }

  function settled() {
    return pending || Promise.resolve();
  }

  // --- files -----------------------------------------------------------------------------
  function setImage(kind, meta) {
    const img = $(`img-${kind}`);
    const ph = $(`ph-${kind}`);
    if (!img) return;
    if (meta && meta.url) {
      img.src = `${meta.url}?v=${String(meta.sha256 || Date.now()).slice(0, 12)}`;
      img.hidden = false;
      if (ph) ph.hidden = true;
    } else {
      img.removeAttribute('src');
      img.hidden = true;
      if (ph) ph.hidden = false;
    }
  }

  function renderFiles(f) {
    for (const kind of Object.keys(L.files)) setImage(kind, (f.files || {})[kind]);   // the stamped copy has no slot of its own
    const stamped = f.stamped_photo;
    $('stamped-col').hidden = !stamped;
    const img = $('img-stamped');
    if (stamped) img.src = `${stamped.url}?v=${String(stamped.sha256).slice(0, 12)}`;
    else img.removeAttribute('src');
  }

  function uploadError(kind, error) {
    const message = (error && error.message) || '上传失败，请稍后再试';
    fieldError(kind, message);
  }

  async function upload(kind, file) {
    const errorEl = formEl.querySelector(`[data-error-for="${kind}"]`);
    hide(errorEl);
    if (!['image/jpeg', 'image/png'].includes(file.type)) {
      uploadError(kind, { message: '请选择 JPG 或 PNG 格式的图片' });
      return;
    }
    if (file.size > MAX_UPLOAD) {
      uploadError(kind, { message: '上传文件不能超过5MB' });
      return;
    }
    const box = formEl.querySelector(`[data-upload="${kind}"]`);
    box.classList.add('uploading');
    const fd = new FormData();
    fd.append('file', file, file.name);
    try {
      const r = await api('PUT', `${API}/files/${kind}`, fd);
      if (!r.ok) { uploadError(kind, r.data.error); return; }
      const hadStamp = !!state.stamped_photo;
      state = { ...state, files: r.data.files, stamped_photo: r.data.stamped_photo };
      renderFiles(state);
      clearFieldError(kind);
      toast(`${L.files[kind]}已上传`);
      // a new 2-inch photo: the server stamps it again, or the old stamped copy is gone
      if (kind === 'personal_photo' && hadStamp && !state.stamped_photo) show($('stamp-note'), RESTAMP);
      refreshEligibility();
    } finally {
      box.classList.remove('uploading');
    }
  }

  async function stamp() {
    const button = $('stamp-button');
    hide(formEl.querySelector('[data-error-for="personal_photo"]'));
    if (!(state.files || {}).personal_photo) {
      uploadError('personal_photo', { message: '请先上传个人照片，再添加身份证号' });
      return;
    }
    button.disabled = true;
    try {
      const r = await api('POST', `${API}/files/personal_photo/stamp`);
      if (!r.ok) { uploadError('personal_photo', r.data.error); return; }
      state = { ...state, files: r.data.files, stamped_photo: r.data.stamped_photo };
      renderFiles(state);
      hide($('stamp-note'));
      toast('已添加身份证号');
    } finally {
      button.disabled = false;
    }
  }

  // --- the eligibility panel -------------------------------------------------------------
  function renderEligibility(result) {
    const list = $('elig-list');
    const rules = result.rules || [];
    list.replaceChildren(...rules.map((r) => {
      const li = document.createElement('li');
      li.className = `rule ${r.passed ? 'pass' : 'fail'}`;
      li.dataset.rule = r.rule;
      if (r.field) li.dataset.field = r.field;
      const mark = document.createElement('span');
      mark.className = 'mark';
      mark.textContent = r.passed ? '✓' : '✗';
      mark.setAttribute('aria-label', r.passed ? '通过' : '未通过');
      const body = document.createElement('div');
      body.className = 'rule-body';
      const title = document.createElement('b');
      title.className = 'rule-title';
      title.textContent = r.title || r.rule;
      const msg = document.createElement('span');
      msg.className = 'rule-msg';
      msg.textContent = r.message || '';
      body.append(title, msg);
      li.append(mark, body);
      return li;
    }));
    const passed = rules.filter((r) => r.passed).length;
    $('elig-passed').textContent = String(passed);
    $('elig-total').textContent = String(rules.length);
    const verdict = $('elig-verdict');
    const ok = rules.length > 0 && passed === rules.length;
    verdict.textContent = ok ? '符合申报条件' : '尚不符合申报条件';
    verdict.className = `elig-verdict ${ok ? 'ok' : 'bad'}`;
    highlight(rules);
  }

  /** The rows whose * is showing (the required fields of the saved form). */
  function starredFields() {
    const names = [];
    formEl.querySelectorAll('[data-field]').forEach((row) => {
      const mark = row.querySelector(':scope > .field-label > .req, :scope > .app-block-title > .req, '
        + ':scope > .pledge-label .req');
      if (mark && !mark.hidden && Object.prototype.hasOwnProperty.call(state, row.dataset.field)) {
        names.push(row.dataset.field);
      }
    });
    return names;
  }

  /** The fields a failing rule names get a red frame; a failed "required" or 资料上传 rule
      marks every empty starred field or missing required upload of the saved form. */
  function highlight(rules) {
    formEl.querySelectorAll('.rule-failed').forEach((el) => el.classList.remove('rule-failed'));
    if (state.locked) return;
    const fields = new Set();
    for (const r of rules) {
      if (r.passed) continue;
      if (r.field) fields.add(r.field);
      if (r.rule === 'required') {
        for (const name of starredFields()) {
          const value = state[name];
          if (name === 'pledge' ? value !== true : value == null || value === '') fields.add(name);
        }
      }
      if (r.rule === 'R-A4.13') {
        for (const kind of choices.required_files || []) if (!(state.files || {})[kind]) fields.add(kind);
      }
    }
    for (const field of fields) {
      formEl.querySelectorAll(`[data-field="${CSS.escape(field)}"]`).forEach((el) => el.classList.add('rule-failed'));
    }
  }

  async function refreshEligibility() {
    const r = await api('GET', `${API}/eligibility`);
    if (r.ok) renderEligibility(r.data);
    return r;
  }

  function goToField(field) {
    const target = formEl.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!target) return;
    target.scrollIntoView({ block: 'center', behavior: 'smooth' });
    const control = target.querySelector('select:not([disabled]), input:not([type=hidden]):not([disabled]), textarea');
    if (control && control.type !== 'file') control.focus({ preventScroll: true });
  }

  // --- 保存, 提交 -------------------------------------------------------------------------
  function setBusy(on) {
    busy = on;
    for (const id of ['save-button', 'submit-button', 'delete-button']) {
      const b = $(id);
      if (b) { b.disabled = on; b.setAttribute('aria-busy', on ? 'true' : 'false'); }
    }
  }

  /** PUT the whole editable set; true when saved. */
  async function save() {
    await settled();                     // the 工作年限 maximum of the latest choices
    clearErrors();
    const built = readForm();
    if (built.error) { fieldError(built.error.field, built.error.message); return false; }
    const r = await api('PUT', API, built.body);
    if (!r.ok) {
      if (r.status === 409) { window.location.reload(); return false; }
      fieldError(r.data.error.field, r.data.error.message);
      return false;
    }
    state = r.data;
    fillForm(state);
    return true;
  }

  async function onSave() {
    if (busy) return;
    setBusy(true);
    try {
      if (await save()) {
        toast('已保存');
        await refreshEligibility();
      }
    } finally {
      setBusy(false);
    }
  }

  function notEligible(message, rules) {
    const failed = (rules || []).filter((rule) => !rule.passed);
    formAlert(message || '报名信息不符合申报条件，请按提示修改后再提交', failed.map((d) => d.message || d.title));
  }

  /** 提交: save, check every rule, show every failure; only an eligible form asks for the
      confirmation (提交后信息不能被删除…) and goes. */
  async function onSubmit() {
    if (busy) return;
    setBusy(true);
    try {
      if (!(await save())) return;
      const check = await refreshEligibility();
      if (!check.ok) {
        formAlert((check.data.error && check.data.error.message) || '检查申报条件失败，请稍后再试');
        return;
      }
      if (!check.data.eligible) { notEligible(null, check.data.rules); return; }
      if (!window.confirm(CONFIRM_SUBMIT)) return;
      const r = await api('POST', `${API}/submit`);
      if (r.ok) {
        window.location.reload();
        return;
      }
      const error = r.data.error || {};
      if (error.code === 'not_eligible') {
        await refreshEligibility();
        notEligible(error.message, Array.isArray(error.details) ? error.details : []);
        return;
      }
      if (r.status === 409) { window.location.reload(); return; }
      formAlert(error.message || '提交失败，请稍后再试');
      await refreshEligibility();
    } finally {
      setBusy(false);
    }
  }

  // --- 删除本人信息 ------------------------------------------------------------------------
  function initDelete() {
    const open = $('delete-button');
    const dialog = $('delete-dialog');
    if (!open || !dialog) return;
    const smsButton = $('delete-sms-button');
    const codeInput = $('f-delete-code');
    const errorEl = dialog.querySelector('[data-error-for="sms_code"]');
    const countdown = window.GK.smsCountdown(smsButton);

    open.addEventListener('click', () => {
      hide(errorEl);
      codeInput.value = '';
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
      codeInput.focus();
    });
    $('delete-cancel').addEventListener('click', () => dialog.close());

    smsButton.addEventListener('click', async () => {
      hide(errorEl);
      smsButton.disabled = true;
      const r = await api('POST', '/api/v1/sms-codes', { phone: '', purpose: 'delete_self' });
      if (r.ok) { countdown((r.data && r.data.resend_after) || 60); return; }
      const retry = r.data.error.details && r.data.error.details.retry_after;
      if (r.status === 429 && retry) countdown(retry);
      else smsButton.disabled = false;
      show(errorEl, r.data.error.message);
    });

    $('delete-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      hide(errorEl);
      const code = codeInput.value.trim();
      if (!/^\d{6}$/.test(code)) { show(errorEl, '请输入6位短信验证码'); return; }
      const confirmButton = $('delete-confirm');
      confirmButton.disabled = true;
      const r = await api('DELETE', '/api/v1/me', { sms_code: code });
      if (r.ok) {
        show($('delete-done'), '本人信息已删除，账号已注销。如需报考，请重新注册。即将返回登录页面……');
        window.setTimeout(() => window.location.assign('/login'), 2000);
        return;
      }
      confirmButton.disabled = false;
      show(errorEl, r.data.error.message);
      if (r.status === 409) open.hidden = true;
    });
  }

  // --- 退回: the reviewer's reason, when the review API answers ----------------------------
  async function showReturnReason() {
    const box = $('return-reason');
    if (!box) return;
    const r = await api('GET', '/api/v1/me/review');
    if (!r.ok || !r.data || !Array.isArray(r.data.steps)) return;
    const last = [...r.data.steps].reverse().find((s) => s.decision === 'return' && s.reason);
    if (last) box.textContent = `（退回原因：${last.reason}）`;
  }

  // --- wiring ----------------------------------------------------------------------------
  function lockAll() {
    formEl.querySelectorAll('input, select, textarea, button').forEach((el) => { el.disabled = true; });
  }

  /** A field's red frame and message go as soon as the field changes. */
  function clearFieldError(field) {
    const name = CSS.escape(field);
    formEl.querySelectorAll(`[data-field="${name}"]`).forEach((el) => el.classList.remove('has-error', 'rule-failed'));
    formEl.querySelectorAll(`[data-error-for="${name}"]`).forEach(hide);
  }

  function init() {
    syncCertificateText();
    renderEligibility(DATA.eligibility);
    if (state.locked) { lockAll(); return; }

    formEl.addEventListener('submit', (ev) => ev.preventDefault());
    for (const type of ['input', 'change']) {
      formEl.addEventListener(type, (ev) => {
        const row = ev.target.closest('[data-field]');
        if (row && ev.target.type !== 'file') clearFieldError(row.dataset.field);
      });
    }
    $('f-unit_id').addEventListener('change', syncUnit);
    $('f-work_start_year').addEventListener('change', () => askChoices(true));
    $('f-work_start_month').addEventListener('change', () => askChoices(true));
    for (const id of ['f-current_grade', 'f-current_trade', 'f-route', 'f-target_trade']) {
      $(id).addEventListener('change', () => askChoices(false));
    }
    $('f-current_grade').addEventListener('change', syncCertificateText);
    // typed by hand before the new maximum arrived: it stays (the check on 保存 still applies)
    $('f-service_years').addEventListener('input', () => { wantMax = false; });
    $('f-exceptional').addEventListener('change', syncExceptional);

    formEl.querySelectorAll('[data-upload]').forEach((box) => {
      const kind = box.dataset.upload;
      const input = $(`file-${kind}`);
      box.addEventListener('click', () => { if (!input.disabled) input.click(); });
      input.addEventListener('change', () => {
        const file = input.files && input.files[0];
        if (file) upload(kind, file).finally(() => { input.value = ''; });
      });
    });
    $('stamp-button').addEventListener('click', stamp);
    $('elig-list').addEventListener('click', (ev) => {
      const li = ev.target.closest('li.fail[data-field]');
      if (li) goToField(li.dataset.field);
    });
    $('save-button').addEventListener('click', onSave);
    $('submit-button').addEventListener('click', onSubmit);
    initDelete();
    if (state.status === 'returned') showReturnReason();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
