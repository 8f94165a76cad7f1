/* 河南省机关事业单位工勤技能岗位等级考核网上报名系统: the pages' script (plain ES2020, no framework).
   Forms go to the JSON API with fetch; the CSRF token from cookie gk_csrf rides in X-CSRF-Token. */
(() => {
  'use strict';

  const NETWORK_ERROR = '网络连接失败，请检查网络后重试';
  const MAX_UPLOAD = 5 * 1024 * 1024;
  const WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];

  // --- helpers ----------------------------------------------------------------------
  let labelCache = null;

  /** The page's labels (a JSON block the server fills from the services' schemas). */
  function labels() {
    if (labelCache === null) {
      const el = document.getElementById('gk-labels');
      try { labelCache = el ? JSON.parse(el.textContent) : {}; } catch (e) { labelCache = {}; }
    }
    return labelCache;
  }

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return decodeURIComponent(v.join('='));
    }
    return '';
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return cookie('gk_csrf') || (meta ? meta.content : '');
  }

  /** Calls the API. Resolves to {ok, status, data, headers}; never rejects. */
  async function api(method, url, body) {
    const headers = { 'X-CSRF-Token': csrfToken(), Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin' };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, data: { error: { code: 'network', message: NETWORK_ERROR, field: null } } };
    }
    let data = null;
    const type = resp.headers.get('Content-Type') || '';
    if (resp.status !== 204 && type.includes('json')) {
      try { data = await resp.json(); } catch (e) { data = null; }
    }
    if (!resp.ok && !(data && data.error)) {
      data = { error: { code: 'http_' + resp.status, message: resp.status >= 500 ? '系统繁忙，请稍后再试' : '请求失败（' + resp.status + '）', field: null } };
    }
    return { ok: resp.ok, status: resp.status, data, headers: resp.headers };
  }

  function show(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }

  function hide(el) {
    if (el) { el.hidden = true; el.textContent = ''; }
  }

  function pageAlert(text) {
    const el = document.getElementById('page-alert');
    show(el, text);
    if (el) el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  function clearErrors(scope) {
    scope.querySelectorAll('[data-error-for]').forEach(hide);
    scope.querySelectorAll('.field.has-error').forEach((f) => f.classList.remove('has-error'));
    scope.querySelectorAll('[data-form-alert]').forEach(hide);
    hide(document.getElementById('page-alert'));
  }

  /** Every error next to its field at once (the first one scrolled to); an error without a
      field of its own goes to the form's top alert. */
  function showErrors(scope, errors) {
    let first = null;
    for (const error of errors) {
      const field = error.field;
      const target = field ? scope.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
      if (!target) { showError(scope, error); return; }
      show(target, error.message);
      const row = target.closest('.field');
      if (row) row.classList.add('has-error');
      if (!first) first = { target, row };
    }
    if (!first) return;
    const input = first.row && first.row.querySelector('input:not([type=hidden]):not([type=file]), select, textarea');
    if (input && input.focus) input.focus({ preventScroll: true });
    first.target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  /** A field's error goes as soon as the field changes. */
  function clearOnChange() {
    for (const type of ['input', 'change']) {
      document.addEventListener(type, (ev) => {
        const row = ev.target.closest && ev.target.closest('.field.has-error');
        if (!row) return;
        row.classList.remove('has-error');
        row.querySelectorAll('[data-error-for]').forEach(hide);
      });
    }
  }

  /** Shows an API error next to its field (data-error-for) or in the form's top alert. */
  function showError(scope, error) {
    const message = (error && error.message) || '操作失败，请稍后再试';
    const field = error && error.field;
    const target = field ? scope.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
    if (target) {
      show(target, message);
      const row = target.closest('.field');
      if (row) row.classList.add('has-error');
      const input = row && row.querySelector('input:not([type=hidden]), select, textarea');
      if (input && input.focus) input.focus({ preventScroll: true });
      target.scrollIntoView({ block: 'center', behavior: 'smooth' });
      return;
    }
    const alertBox = scope.querySelector('[data-form-alert]');
    if (alertBox) {
      show(alertBox, message);
      alertBox.scrollIntoView({ block: 'center', behavior: 'smooth' });
    } else {
      pageAlert(message);
    }
  }

  /** 401 on a page that needs a login: to the login page; a forced password change: there. */
  function handleAuthErrors(result, form) {
    if (form && form.dataset.success === 'login') return false;
    const code = result.data && result.data.error && result.data.error.code;
    if (result.status === 401) {
      window.location.assign(document.body.dataset.login || '/login');
      return true;
    }
    if (result.status === 403 && code === 'must_change_password') {
      window.location.assign(document.body.dataset.password || '/password');
      return true;
    }
    return false;
  }

  function formJson(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.dataset.local !== undefined || el.type === 'file') continue;
      if (el.type === 'checkbox') out[el.name] = el.checked;
      else if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; }
      else if (el.tagName !== 'BUTTON') out[el.name] = el.value.trim();
    }
    return out;
  }

  function setBusy(form, busy) {
    form.querySelectorAll('button[type=submit]').forEach((b) => {
      b.disabled = busy;
      b.setAttribute('aria-busy', busy ? 'true' : 'false');
    });
  }

  function fileTooBig(input) {
    const file = input && input.files && input.files[0];
    const max = Number((input && input.dataset.maxBytes) || MAX_UPLOAD);
    return file && file.size > max;
  }

  // --- the clock in the header (Beijing time, from the server's time) ---------------------
  function startClock() {
    const el = document.getElementById('clock');
    if (!el || !el.dataset.epoch) return;
    const skew = Number(el.dataset.epoch) - Date.now();
    const pad = (n) => String(n).padStart(2, '0');
    const tick = () => {
      const d = new Date(Date.now() + skew + 8 * 3600 * 1000); // read with getUTC*: Beijing time
      el.textContent = `${d.getUTCFullYear()}年${pad(d.getUTCMonth() + 1)}月${pad(d.getUTCDate())}日 `
        + `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${WEEKDAYS[d.getUTCDay()]}`;
    };
    tick();
    window.setInterval(tick, 1000);
  }

  // --- what each form sends and does on success ------------------------------------------
  const builders = {
    password(form) {
      const data = formJson(form);
      const confirm = form.querySelector('[name=new_password_confirm]');
      if (confirm && confirm.value !== data.new_password) {
        return { error: { field: 'new_password_confirm', message: '两次输入的密码不一致' } };
      }
      return { body: { old_password: data.old_password, new_password: data.new_password } };
    },
    register(form) {
      const errors = registrationErrors(form);
      if (errors.length) return { errors };
      const fd = new FormData(form);
      for (const key of ['id_number', 'name', 'phone', 'sms_code']) fd.set(key, String(fd.get(key) || '').trim());
      fd.set('id_number', String(fd.get('id_number')).toUpperCase());
      fd.set('agreed', 'true');
      return { body: fd };
    },
    roster(form) {
      const file = form.querySelector('[name=file]');
      if (!file.files || !file.files.length) return { error: { field: 'file', message: '请选择要导入的 CSV 文件' } };
      if (fileTooBig(file)) return { error: { field: 'file', message: '上传文件不能超过5MB' } };
      return { body: new FormData(form) };
    },
    'admin-created'(form) {
      const data = formJson(form);
      data.scope_code = data.role === 'province' ? null : (data.scope_code || null);
      return { body: data };
    },
    'year-saved'(form) {
      const year = Number(form.querySelector('[name=year]').value);
      if (!Number.isInteger(year) || year < 2000 || year > 2100) {
        return { error: { field: 'year', message: '年度应为四位数字' } };
      }
      const windows = {};
      for (const row of form.querySelectorAll('[data-window]')) {
        const key = row.dataset.window;
        const start = row.querySelector(`[name="${key}.start"]`).value;
        const end = row.querySelector(`[name="${key}.end"]`).value;
        if (!start && !end) continue;
        if (!start || !end) return { error: { field: `windows.${key}`, message: '请同时填写开始和结束时间' } };
        windows[key] = { start: beijing(start), end: beijing(end) };
      }
      const switches = {};
      form.querySelectorAll('input[name^="switch."]').forEach((el) => { switches[el.name.slice(7)] = el.checked; });
      const body = { windows, switches };
      if (form.querySelector('[name=current]').checked) body.current = true;
      return { body, url: `/api/v1/admin/years/${year}` };
    },
  };

  /** Every field of the registration form checked at once (the service checks them again). */
  function registrationErrors(form) {
    const value = (name) => String((form.querySelector(`[name=${name}]`) || {}).value || '').trim();
    const errors = [];
    const add = (field, message) => errors.push({ field, message });
    if (!value('city_code')) add('city_code', '请选择省辖市、直辖区');
    if (!value('declared_grade')) add('declared_grade', '请选择申报等级');
    const file = form.querySelector('[name=id_card_photo]');
    const photo = file && file.files && file.files[0];
    if (!photo) add('id_card_photo', '请选择身份证照片,上传后,方可进行注册');
    else if (!['image/jpeg', 'image/png'].includes(photo.type)) add('id_card_photo', '请选择 JPG 或 PNG 格式的图片');
    else if (fileTooBig(file)) add('id_card_photo', '上传文件不能超过5MB');
    const id = value('id_number').toUpperCase();
    if (!id) add('id_number', '请输入身份证号');
    else if (!/^\d{17}[\dX]$/.test(id)) add('id_number', '身份证号应为18位（最后一位可以是X）');
    if (!value('birth_month')) add('birth_month', '请选择出生年月');
    if (!value('name')) add('name', '请输入姓名');
    if (!/^1\d{10}$/.test(value('phone'))) add('phone', '请输入正确的11位手机号');
    if (!/^\d{6}$/.test(value('sms_code'))) add('sms_code', '请输入6位短信验证码');
    const pw = (form.querySelector('[name=password]') || {}).value || '';
    if (!pw) add('password', '请输入密码');
    else if (pw.length < 8 || !/[A-Za-z]/.test(pw) || !/\d/.test(pw)) add('password', '密码须为8位以上字母和数字的组合');
    if (pw !== ((form.querySelector('[name=password_confirm]') || {}).value || '')) {
      add('password_confirm', '请确保两次输入的密码一致');
    }
    return errors;
  }

  /** A datetime-local value read as Beijing time. */
  function beijing(value) {
    const withSeconds = value.length === 16 ? value + ':00' : value;
    return withSeconds + '+08:00';
  }

  const onSuccess = {
    login(form, data) {
      const next = data && data.must_change_password ? form.dataset.passwordPage : form.dataset.home;
      window.location.assign(next || '/');
    },
    password(form) {
      window.location.assign(form.dataset.next || '/');
    },
    register(form, data) {
      // 注册成功后跳转至登录页面 (the manual): 完成 shows for a moment, the login page says it
      wizardGo(3);
      const message = (data && data.message) || '注册成功，请使用身份证号和密码登录';
      flash(message);
      window.setTimeout(() => window.location.assign('/login'), 1200);
    },
    roster(form, data) {
      const box = document.getElementById('roster-result');
      box.hidden = false;
      for (const key of ['added', 'updated', 'unchanged', 'refused_count']) {
        const el = box.querySelector(`[data-count="${key}"]`);
        if (el) el.textContent = String(data[key] ?? 0);
      }
      const table = document.getElementById('roster-refused');
      const tbody = table.querySelector('tbody');
      tbody.replaceChildren();
      for (const row of data.refused || []) {
        const tr = document.createElement('tr');
        for (const value of [row.line, row.id_number, row.reason]) {
          const td = document.createElement('td');
          td.textContent = value == null ? '—' : String(value);
          tr.appendChild(td);
        }
        tbody.appendChild(tr);
      }
      table.hidden = !(data.refused || []).length;
      form.reset();
      form.querySelectorAll('input[type=file]').forEach((i) => i.dispatchEvent(new Event('change')));
    },
    supplementary(form, data) {
      const box = document.getElementById('supplementary-message');
      show(box, `补报成功：${data.name}（${data.id_number}）已注册，初始密码为 123。`
        + '请通知本人用身份证号和初始密码 123 登录，登录后及时修改密码。');
      for (const name of ['id_number', 'name', 'phone']) form.querySelector(`[name=${name}]`).value = '';
    },
    'admin-created'(form, data) {
      window.location.assign('/admin/admins?created=' + encodeURIComponent(data.username));
    },
    'year-saved'() {
      window.location.assign('/admin/years?saved=1');
    },
  };

  async function submitForm(form) {
    clearErrors(form);
    if (form.dataset.message) hide(document.getElementById(form.dataset.message));
    const kind = form.dataset.success;
    let built;
    if (builders[kind]) built = builders[kind](form);
    else built = { body: form.dataset.enc === 'multipart' ? new FormData(form) : formJson(form) };
    if (built.error) { showError(form, built.error); return; }
    if (built.errors) { showErrors(form, built.errors); return; }
    setBusy(form, true);
    try {
      const result = await api(form.dataset.method || 'POST', built.url || form.dataset.api, built.body);
      if (!result.ok) {
        if (handleAuthErrors(result, form)) return;
        const error = result.data.error;
        if (kind === 'register' && error.code === 'outside_registration_window') {
          registrationClosed(error.message);
          return;
        }
        if (kind === 'login' && error.code === 'locked' && error.details && error.details.sms_unlock) {
          offerUnlock(form);
        }
        showError(form, error);
        return;
      }
      if (onSuccess[kind]) onSuccess[kind](form, result.data);
    } finally {
      setBusy(form, false);
    }
  }

  function bindForms() {
    document.querySelectorAll('form[data-api], form[data-success="year-saved"]').forEach((form) => {
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        submitForm(form);
      });
    });
  }

  // --- the registration wizard --------------------------------------------------------
  function wizardGo(n) {
    document.querySelectorAll('[data-panel]').forEach((p) => { p.hidden = Number(p.dataset.panel) !== n; });
    document.querySelectorAll('#wizard-steps [data-wizard]').forEach((li) => {
      const i = Number(li.dataset.wizard);
      li.classList.toggle('current', i === n);
      li.classList.toggle('done', i < n);
    });
    const top = document.getElementById('register');
    if (top) top.scrollIntoView({ block: 'start' });
  }

  function registrationClosed(message) {
    document.querySelectorAll('[data-panel]').forEach((p) => { p.hidden = true; });
    const steps = document.getElementById('wizard-steps');
    if (steps) steps.hidden = true;
    const box = document.getElementById('registration-closed');
    const text = document.getElementById('closed-message');
    if (text && message) text.textContent = message;
    if (box) box.hidden = false;
  }

  function initRegister() {
    const agree = document.getElementById('agree');
    const next = document.getElementById('to-step-2');
    if (!agree || !next) return;
    const sync = () => { next.disabled = !agree.checked; };
    agree.addEventListener('change', sync);
    sync();
    next.addEventListener('click', () => { if (agree.checked) wizardGo(2); });
    const back = document.getElementById('back-to-step-1');
    if (back) back.addEventListener('click', () => wizardGo(1));

    // 出生年月 follows the ID number when it is complete.
    const id = document.getElementById('f-id_number');
    const month = document.getElementById('f-birth_month');
    if (id && month) {
      id.addEventListener('input', () => {
        const v = id.value.trim();
        if (/^\d{17}[\dXx]$/.test(v)) month.value = `${v.slice(6, 10)}-${v.slice(10, 12)}`;
      });
    }
  }

  function initFileNames() {
    document.querySelectorAll('input[type=file][data-filename]').forEach((input) => {
      input.addEventListener('change', () => {
        const nameEl = document.getElementById(input.dataset.filename);
        const file = input.files && input.files[0];
        if (nameEl) nameEl.textContent = file ? file.name : '未选择文件';
      });
    });
  }

  function initPreviews() {
    document.querySelectorAll('input[type=file][data-preview]').forEach((input) => {
      input.addEventListener('change', () => {
        const img = document.getElementById(input.dataset.preview);
        const placeholder = document.getElementById(input.dataset.placeholder);
        const form = input.form;
        const errorEl = form && form.querySelector(`[data-error-for="${CSS.escape(input.name)}"]`);
        hide(errorEl);
        const file = input.files && input.files[0];
        if (!file) { if (img) img.hidden = true; if (placeholder) placeholder.hidden = false; return; }
        if (!['image/jpeg', 'image/png'].includes(file.type)) {
          show(errorEl, '请选择 JPG 或 PNG 格式的图片');
        } else if (fileTooBig(input)) {
          show(errorEl, '上传文件不能超过5MB');
        }
        if (img) {
          if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
          img.dataset.url = URL.createObjectURL(file);
          img.src = img.dataset.url;
          img.hidden = false;
        }
        if (placeholder) placeholder.hidden = true;
      });
    });
  }

  // --- 获取验证码 with a 60-second countdown ---------------------------------------------
  // Returns start(seconds): the button is disabled and counts down, then is usable again.
  function smsCountdown(button) {
    const label = button.textContent;
    let timer = null;
    return (seconds) => {
      let left = Math.max(1, Math.round(seconds));
      button.disabled = true;
      window.clearInterval(timer);
      const paint = () => { button.textContent = `${left}秒后重新获取`; };
      paint();
      timer = window.setInterval(() => {
        left -= 1;
        if (left <= 0) {
          window.clearInterval(timer);
          button.disabled = false;
          button.textContent = label;
        } else {
          paint();
        }
      }, 1000);
    };
  }

  /** R-I7: the owner of a locked applicant account unlocks it with a code to the registered
      phone (the service sends it there; the page never learns the number beyond its mask). */
  function offerUnlock(loginForm) {
    const box = document.getElementById('unlock-box');
    if (!box || box.dataset.ready) { if (box) box.hidden = false; return; }
    box.dataset.ready = '1';
    box.hidden = false;
    const form = document.getElementById('unlock-form');
    const button = document.getElementById('unlock-sms');
    const countdown = smsCountdown(button);
    const idNumber = () => String(loginForm.querySelector('[name=id_number]').value || '').trim().toUpperCase();
    button.addEventListener('click', async () => {
      clearErrors(form);
      button.disabled = true;
      const result = await api('POST', '/api/v1/sms-codes', { purpose: 'unlock', id_number: idNumber() });
      if (result.ok) {
        show(document.getElementById('unlock-sent'), `验证码已发送至 ${result.data.phone}，${Math.round(
          (result.data.expires_in || 300) / 60)}分钟内有效`);
        countdown((result.data && result.data.resend_after) || 60);
        return;
      }
      const error = result.data.error;
      const retry = (error.details && error.details.retry_after) || 0;
      if (result.status === 429 && retry) countdown(retry);
      else button.disabled = false;
      showError(form, { ...error, field: 'sms_code' });
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const code = String(form.querySelector('[name=sms_code]').value || '').trim();
      if (!/^\d{6}$/.test(code)) { showError(form, { field: 'sms_code', message: '请输入6位短信验证码' }); return; }
      const result = await api('POST', '/api/v1/sessions/unlock', { id_number: idNumber(), sms_code: code });
      if (!result.ok) { showError(form, result.data.error); return; }
      show(document.getElementById('unlock-done'));
      clearErrors(loginForm);
      loginForm.querySelector('[name=password]').focus();
    });
  }

  function initSms() {
    const button = document.getElementById('sms-button');
    if (!button) return;
    const countdown = smsCountdown(button);
    button.addEventListener('click', async () => {
      const form = button.form;
      const phoneInput = document.getElementById(button.dataset.phone);
      const phone = phoneInput.value.trim();
      hide(form.querySelector('[data-error-for="phone"]'));
      hide(form.querySelector('[data-error-for="sms_code"]'));
      if (!/^1\d{10}$/.test(phone)) {
        showError(form, { field: 'phone', message: '请输入正确的11位手机号' });
        return;
      }
      button.disabled = true;
      const result = await api('POST', '/api/v1/sms-codes', { phone, purpose: button.dataset.purpose });
      if (result.ok) {
        countdown((result.data && result.data.resend_after) || 60);
        return;
      }
      const error = result.data.error;
      const retry = Number(result.headers && result.headers.get('Retry-After'))
        || (error.details && error.details.retry_after) || 0;
      if (result.status === 429 && retry) countdown(retry);
      else button.disabled = false;
      showError(form, { ...error, field: error.field === 'phone' && result.status !== 429 ? 'phone' : 'sms_code' });
    });
  }

  // --- 账号管理 -----------------------------------------------------------------------
  function initAccounts() {
    const form = document.getElementById('account-search');
    if (!form) return;
    const result = document.getElementById('account-result');
    const table = document.querySelector('#account-table tbody');
    const message = document.getElementById('account-message');
    let current = null;

    const L = labels();
    const render = (a) => {
      const rows = [
        ['姓名', a.name], ['身份证号', a.id_number], ['性别', (L.genders || {})[a.gender] || '—'],
        ['出生年月', a.birth_month], ['手机号', a.phone], ['省辖市、直辖区', a.city_name || a.city_code],
        ['申报等级', (L.grades || {})[a.declared_grade] || '—'], ['考核年度', `${a.year}年`],
        ['注册方式', a.supplementary ? '管理员补报' : '本人注册'],
        ['密码状态', a.must_change_password ? '初始密码（登录后须修改）' : '已设置'],
        ['报名信息', a.ever_submitted ? '已提交过' : '未提交'],
        ['注册时间', a.created_at ? a.created_at.replace('T', ' ').slice(0, 19) : '—'],
      ];
      table.replaceChildren();
      for (const [k, v] of rows) {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.textContent = k;
        const td = document.createElement('td');
        td.textContent = v == null || v === '' ? '—' : String(v);
        tr.append(th, td);
        table.appendChild(tr);
      }
      result.hidden = false;
    };

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      hide(message);
      result.hidden = true;
      current = null;
      const id = form.querySelector('[name=id_number]').value.trim().toUpperCase();
      if (!id) { showError(form, { field: 'id_number', message: '请输入身份证号' }); return; }
      setBusy(form, true);
      try {
        const r = await api('GET', `/api/v1/admin/accounts/${encodeURIComponent(id)}`);
        if (!r.ok) { if (!handleAuthErrors(r, form)) showError(form, r.data.error); return; }
        current = r.data;
        render(r.data);
      } finally {
        setBusy(form, false);
      }
    });

    const act = async (button, confirmText, method, path, done) => {
      if (!current) return;
      if (!window.confirm(confirmText)) return;
      clearErrors(form);
      hide(message);
      button.disabled = true;
      try {
        const r = await api(method, path);
        if (!r.ok) { if (!handleAuthErrors(r, form)) showError(form, r.data.error); return; }
        done(r.data);
      } finally {
        button.disabled = false;
      }
    };

    document.getElementById('reset-password').addEventListener('click', (ev) => {
      if (!current) return;
      const who = `${current.name}（${current.id_number}）`;
      act(ev.currentTarget, `确定要重置 ${who} 的密码吗？\n重置后密码将变为 123，本人登录后须修改密码。`,
        'POST', `/api/v1/admin/accounts/${encodeURIComponent(current.id_number)}/password-reset`, () => {
          show(message, `已重置 ${who} 的密码，新密码为 123。请通知本人用身份证号和密码 123 登录后及时修改密码。`);
          current.must_change_password = true;
          render(current);
        });
    });
    document.getElementById('delete-account').addEventListener('click', (ev) => {
      if (!current) return;
      const who = `${current.name}（${current.id_number}）`;
      act(ev.currentTarget, `确定要删除 ${who} 的本年度账号吗？\n删除后不能恢复，本人须重新注册。`,
        'DELETE', `/api/v1/admin/accounts/${encodeURIComponent(current.id_number)}`, () => {
          result.hidden = true;
          current = null;
          show(message, `已删除 ${who} 的本年度账号。`);
        });
    });
  }

  // --- a notice carried over one navigation (a decision, then back to the queue) ------------
  const FLASH_KEY = 'gk_flash';

  function flash(text) {
    try { window.sessionStorage.setItem(FLASH_KEY, text); } catch (e) { /* storage off: no notice */ }
  }

  function showFlash() {
    let text = null;
    try {
      text = window.sessionStorage.getItem(FLASH_KEY);
      window.sessionStorage.removeItem(FLASH_KEY);
    } catch (e) {
      return;
    }
    if (text) show(document.getElementById('page-notice'), text);
  }

  /** 2026-03-01T08:00:00+00:00 → 2026-03-01 16:00:00 (Beijing time). */
  function beijingText(iso) {
    const t = Date.parse(iso || '');
    if (Number.isNaN(t)) return '—';
    const d = new Date(t + 8 * 3600 * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} `
      + `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }

  // --- 退回: the pop-up with the reason, once per browser session and 退回 (R-R2) ------------
  async function initReturnedDialog() {
    const dialog = document.getElementById('returned-dialog');
    if (!dialog || document.body.dataset.appStatus !== 'returned') return;
    const r = await api('GET', '/api/v1/me/review');
    if (!r.ok || !r.data || r.data.status !== 'returned') return;
    const steps = Array.isArray(r.data.steps) ? r.data.steps : [];
    const last = [...steps].reverse().find((s) => s.decision === 'return' || s.decision === 'reopen');
    const key = `gk_returned_seen:${r.data.round || 0}:${last ? last.at : ''}`;
    try {
      if (window.sessionStorage.getItem(key) === '1') return;
    } catch (e) { /* storage off: show it every time */ }
    document.getElementById('returned-dialog-reason').textContent = r.data.reason || (last && last.reason) || '—';
    const by = document.getElementById('returned-dialog-by');
    if (by && last) {
      by.textContent = `${last.level_name || ''}审核员 ${last.reviewer || ''} 于 ${beijingText(last.at)} 退回了您的报名信息。`;
    }
    const dismiss = () => {
      try { window.sessionStorage.setItem(key, '1'); } catch (e) { /* nothing to remember it in */ }
    };
    dialog.addEventListener('close', dismiss);
    dialog.querySelectorAll('[data-dismiss]').forEach((el) => {
      el.addEventListener('click', () => {
        dismiss();
        if (el.tagName === 'BUTTON') dialog.close();
      });
    });
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
  }

  // The helpers the page scripts (review.js) share.
  window.GK = { api, show, hide, showError, showErrors, clearErrors, handleAuthErrors, pageAlert, flash, beijingText,
    smsCountdown, labels };

  // --- 退出: a POST with the CSRF header (a GET ends nothing) -------------------------------
  function initLogout() {
    document.querySelectorAll('form[data-logout]').forEach((form) => {
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const button = form.querySelector('button[type=submit]');
        if (button) button.disabled = true;
        const r = await api('POST', form.getAttribute('action'));
        if (!r.ok) {
          if (button) button.disabled = false;
          pageAlert((r.data && r.data.error && r.data.error.message) || '退出失败，请稍后再试');
          return;
        }
        window.location.assign(form.dataset.next || '/login');
      });
    });
  }

  // --- file inputs are no tab stops: their visible button opens them ----------------------
  function initFileButtons() {
    document.querySelectorAll('[data-file-for]').forEach((button) => {
      const input = document.getElementById(button.dataset.fileFor);
      if (input) button.addEventListener('click', () => { if (!input.disabled) input.click(); });
    });
  }

  // --- 管理员账号: the scope choices follow the role ------------------------------------
  function initScopeSelect() {
    const role = document.getElementById('f-role');
    const scope = document.querySelector('[data-scope-select]');
    if (!role || !scope) return;
    const sync = () => {
      let first = null;
      for (const opt of scope.options) {
        const match = opt.dataset.role === role.value;
        opt.hidden = !match;
        opt.disabled = !match;
        if (match && !first) first = opt;
      }
      if (!scope.selectedOptions.length || scope.selectedOptions[0].disabled) scope.value = first ? first.value : '';
      scope.disabled = role.value === 'province';
    };
    role.addEventListener('change', sync);
    sync();
  }

  document.addEventListener('DOMContentLoaded', () => {
    startClock();
    initLogout();
    initFileButtons();
    clearOnChange();
    bindForms();
    initRegister();
    initPreviews();
    initFileNames();
    initSms();
    initAccounts();
    initScopeSelect();
    showFlash();
    initReturnedDialog();
    document.querySelectorAll('[data-back]').forEach((a) => {
      a.addEventListener('click', (ev) => {
        if (window.history.length > 1 && document.referrer) { ev.preventDefault(); window.history.back(); }
      });
    });
  });
})();
