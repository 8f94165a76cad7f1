/* 基础数据维护 (province): the units and trades CSV imports, the 县区 咨询电话, the year's
   申报条件 and each city's 审核流程. Everything goes through the JSON API with app.js's helpers
   (window.GK); the services check every change again. */
(() => {
  'use strict';

  const GK = window.GK;
  const MAX_UPLOAD = 5 * 1024 * 1024;
  const LEVELS = (GK && GK.labels().levels) || {};   // review's level names, embedded by the page
  const $ = (id) => document.getElementById(id);

  function busy(form, on) {
    form.querySelectorAll('button[type=submit]').forEach((b) => {
      b.disabled = on;
      b.setAttribute('aria-busy', on ? 'true' : 'false');
    });
  }

  /** Refusals: the error next to its field, or a 401/forced password change handled by app.js. */
  function refused(form, result) {
    if (!GK.handleAuthErrors(result, form)) GK.showError(form, result.data && result.data.error);
  }

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text == null || text === '' ? '—' : String(text);
    return td;
  }

  /** Replaces the elements with these ids by their fresh server-rendered versions. */
  async function refreshFromPage(ids) {
    try {
      const resp = await fetch(window.location.pathname, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!resp.ok) return false;
      const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
      let all = true;
      for (const id of ids) {
        const fresh = doc.getElementById(id);
        const old = $(id);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
        else all = false;
      }
      return all;
    } catch (e) {
      return false;
    }
  }

  // --- 单位及主管单位, 工种目录: CSV imports --------------------------------------------------
  const UPLOADS = {
    units: { key: 'unit_id', counts: ['imported', 'supervisors'], refresh: ['units-table', 'units-count'] },
    trades: { key: 'code', counts: ['imported'], refresh: ['trades-table', 'trades-count'] },
  };

  function showImport(kind, data) {
    const conf = UPLOADS[kind];
    const box = $(`${kind}-result`);
    const rows = (data && data.refused) || [];
    for (const key of conf.counts) {
      const el = box.querySelector(`[data-count="${key}"]`);
      if (el) el.textContent = String(data[key] ?? 0);
    }
    box.querySelector('[data-count="refused_count"]').textContent = String(rows.length);
    const table = $(`${kind}-refused`);
    const tbody = table.querySelector('tbody');
    tbody.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      tr.append(cell(row.line), cell(row[conf.key]), cell(row.reason));
      tbody.appendChild(tr);
    }
    table.hidden = !rows.length;
    box.hidden = false;
  }

  function initUploads() {
    document.querySelectorAll('form[data-ref-upload]').forEach((form) => {
      const kind = form.dataset.refUpload;
      const input = form.querySelector('input[type=file]');
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        GK.clearErrors(form);
        const file = input.files && input.files[0];
        if (!file) { GK.showError(form, { field: 'file', message: '请选择要导入的 CSV 文件' }); return; }
        if (file.size > MAX_UPLOAD) { GK.showError(form, { field: 'file', message: '上传文件不能超过5MB' }); return; }
        const body = new FormData();
        body.append('file', file, file.name);
        busy(form, true);
        try {
          const r = await GK.api('PUT', form.dataset.url, body);
          if (!r.ok) { refused(form, r); return; }
          showImport(kind, r.data);
          form.reset();
          input.dispatchEvent(new Event('change'));
          if (!(await refreshFromPage(UPLOADS[kind].refresh))) {
            GK.pageAlert('导入已完成，但列表未能刷新，请刷新页面查看');
          }
        } finally {
          busy(form, false);
        }
      });
    });
  }

  // --- 咨询电话 ---------------------------------------------------------------------------
  function initContacts() {
    const form = $('contacts-form');
    if (!form) return;
    const section = $('ref-contacts');
    const select = form.querySelector('[name=county_code]');
    const phone = form.querySelector('[name=phone]');
    const message = $('contacts-message');
    const rowOf = (code) => section.querySelector(`#contacts-table tr[data-county="${CSS.escape(code)}"]`);

    const render = (counties) => {
      const tbody = $('contacts-table').querySelector('tbody');
      tbody.replaceChildren();
      for (const c of counties) {
        const tr = document.createElement('tr');
        tr.dataset.county = c.county_code;
        tr.dataset.phone = c.phone;
        const action = document.createElement('td');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'btn btn-small';
        button.dataset.editContact = '';
        button.textContent = '修改';
        action.appendChild(button);
        tr.append(cell(c.city_name), cell(c.name), cell(c.county_code), cell(c.phone), action);
        tbody.appendChild(tr);
      }
      if (!counties.length) {
        const tr = document.createElement('tr');
        const td = cell('暂无');
        td.colSpan = 5;
        td.className = 'muted center-cell';
        tr.appendChild(td);
        tbody.appendChild(tr);
      }
      $('contacts-count').textContent = String(counties.length);
    };

    select.addEventListener('change', () => {
      GK.hide(message);
      const row = select.value && rowOf(select.value);
      phone.value = row ? row.dataset.phone : '';
    });
    section.addEventListener('click', (ev) => {
      const button = ev.target.closest('[data-edit-contact]');
      if (!button) return;
      const row = button.closest('tr');
      GK.clearErrors(form);
      GK.hide(message);
      select.value = row.dataset.county;
      phone.value = row.dataset.phone;
      form.scrollIntoView({ block: 'center', behavior: 'smooth' });
      phone.focus({ preventScroll: true });
    });

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      GK.hide(message);
      const code = select.value;
      const value = phone.value.trim();
      if (!code) { GK.showError(form, { field: 'county_code', message: '请选择县区' }); return; }
      if (!value) { GK.showError(form, { field: 'phone', message: '请填写咨询电话' }); return; }
      if (value.length > 40) { GK.showError(form, { field: 'phone', message: '咨询电话不能超过40个字符' }); return; }
      busy(form, true);
      try {
        const r = await GK.api('PUT', '/api/v1/admin/contacts', { counties: [{ county_code: code, phone: value }] });
        if (!r.ok) { refused(form, r); return; }
        render((r.data && r.data.counties) || []);
        const label = select.selectedOptions[0] ? select.selectedOptions[0].dataset.label : code;
        GK.show(message, `已保存：${label} 咨询电话 ${value}`);
      } finally {
        busy(form, false);
      }
    });
  }

  // --- 申报条件（本年度） -------------------------------------------------------------------
  function labelOf(el) {
    const row = el.closest('.field');
    const label = row && row.querySelector('.field-label');
    return label ? label.textContent.replace(/[*：:]/g, '').trim() : el.name;
  }

  function valueOf(el) {
    return el.type === 'checkbox' ? (el.checked ? 'true' : 'false') : el.value.trim();
  }

  function initRules() {
    const form = $('rules-form');
    if (!form) return;
    const message = $('rules-message');
    const inputs = () => [...form.querySelectorAll('[data-rule]')];

    const check = () => {
      for (const el of inputs()) {
        if (el.type !== 'number') continue;
        const v = el.value.trim();
        if (!/^\d+$/.test(v)) return { field: el.name, message: `${labelOf(el)}应填写不小于0的整数` };
        if (el.max && Number(v) > Number(el.max)) return { field: el.name, message: `${labelOf(el)}不能超过${el.max}` };
      }
      const min = Number(form.querySelector('[name=min_age]').value);
      const max = Number(form.querySelector('[name=max_age]').value);
      if (min >= max) return { field: 'max_age', message: '年龄上限应大于年龄下限' };
      return null;
    };

    const fill = (rules) => {
      for (const el of inputs()) {
        const rule = el.dataset.rule;
        let value = rule === 'years_required' ? (rules.years_required || {})[el.dataset.grade] : rules[rule];
        if (value === undefined) continue;
        if (el.type === 'checkbox') {
          el.checked = Boolean(value);
          value = value ? 'true' : 'false';
        } else {
          el.value = String(value);
        }
        el.dataset.initial = String(value);
      }
    };

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      GK.hide(message);
      const problem = check();
      if (problem) { GK.showError(form, problem); return; }
      const body = {};
      const changed = [];
      const years = inputs().filter((el) => el.dataset.rule === 'years_required');
      for (const el of inputs()) {
        if (valueOf(el) === el.dataset.initial) continue;
        changed.push(labelOf(el));
        if (el.dataset.rule === 'years_required') continue;
        body[el.dataset.rule] = el.type === 'checkbox' ? el.checked : el.type === 'number' ? Number(el.value) : el.value;
      }
      // The service replaces years_required as a whole: send every grade when one changed.
      if (years.some((el) => valueOf(el) !== el.dataset.initial)) {
        body.years_required = Object.fromEntries(years.map((el) => [el.dataset.grade, Number(el.value)]));
      }
      if (!changed.length) { GK.show(message, '没有修改的项目，无需保存'); return; }
      busy(form, true);
      try {
        const r = await GK.api('PUT', `/api/v1/admin/years/${encodeURIComponent(form.dataset.year)}/eligibility-rules`, body);
        if (!r.ok) { refused(form, r); return; }
        fill(r.data || {});
        GK.show(message, `已保存${form.dataset.year}年度申报条件：${changed.join('、')}`);
      } finally {
        busy(form, false);
      }
    });
  }

  // --- 审核流程 ---------------------------------------------------------------------------
  function initChains() {
    document.querySelectorAll('form.ref-chain-form').forEach((form) => {
      const saved = form.querySelector('[data-saved]');
      form.querySelector('select').addEventListener('change', () => GK.hide(saved));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        GK.clearErrors(form);
        GK.hide(saved);
        const levels = form.querySelector('[name=levels]').value.split(',').filter(Boolean);
        busy(form, true);
        try {
          const r = await GK.api('PUT', `/api/v1/admin/review-chains/${encodeURIComponent(form.dataset.city)}`, { levels });
          if (!r.ok) { refused(form, r); return; }
          const now = (r.data && r.data.levels) || levels;
          form.closest('tr').querySelector('[data-chain-text]').textContent = now.map((lv) => LEVELS[lv] || lv).join(' → ');
          GK.show(saved, '已保存');
        } finally {
          busy(form, false);
        }
      });
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (!GK) return;
    initUploads();
    initContacts();
    initRules();
    initChains();
  });
})();
