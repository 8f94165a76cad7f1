/* 缴费管理 and 考核费用设置 (R-F1, R-F4, R-Y1): 登记线下缴费, 立即对账 and the fees form, through
   the JSON API with app.js's helpers (window.GK). The payment service checks every change
   again (role, scope, the city paying online or not). */
(() => {
  'use strict';

  const GK = window.GK;
  const $ = (id) => document.getElementById(id);

  /** "150", "150.5", "150.50" → 15050 分 (integers only: no float touches money); null if not
      an amount of 元 with at most two decimals. */
  function fen(text) {
    const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(text);
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
  }

  function initFees() {
    const form = $('fees-form');
    if (!form) return;
    const year = form.dataset.year;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      const fees = {};
      const errors = [];
      form.querySelectorAll('input[data-grade]').forEach((input) => {
        const text = input.value.trim();
        if (!text) return;                    // left out: keeps its fee
        const value = fen(text);
        if (value === null) errors.push({ field: input.name, message: '请输入金额（元），最多两位小数' });
        else fees[input.dataset.grade] = value;
      });
      if (errors.length) { GK.showErrors(form, errors); return; }
      const cities = [...form.querySelectorAll('input[name=online_payment_cities]:checked')].map((c) => c.value);
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const r = await GK.api('PUT', `/api/v1/admin/years/${encodeURIComponent(year)}/fees`,
          { fees_fen: fees, online_payment_cities: cities });
        if (r.ok) {
          window.location.assign(`/admin/fees?year=${encodeURIComponent(year)}&saved=1`);
          return;
        }
        if (!GK.handleAuthErrors(r)) GK.showError(form, r.data.error);
      } finally {
        button.disabled = false;
      }
    });
  }

  function initOffline() {
    const form = $('offline-form');
    if (!form) return;
    const idInput = $('f-application_id');
    document.querySelectorAll('[data-offline]').forEach((button) => {
      button.addEventListener('click', () => {
        GK.clearErrors(form);
        idInput.value = button.dataset.offline;
        form.scrollIntoView({ block: 'center' });
        $('f-note').focus();
      });
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      const body = { application_id: idInput.value.trim(), note: $('f-note').value.trim() };
      if (!body.application_id) {
        GK.showError(form, { field: 'application_id', message: '请输入报名编号' });
        return;
      }
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const r = await GK.api('POST', '/api/v1/admin/payments/offline', body);
        if (r.ok) {
          GK.flash(`已登记 ${r.data.name}（${r.data.id_number}）的线下缴费。`);
          window.location.reload();
          return;
        }
        if (!GK.handleAuthErrors(r)) GK.showError(form, r.data.error);
      } finally {
        button.disabled = false;
      }
    });
  }

  function initReconcile() {
    const button = $('reconcile');
    if (!button) return;
    const result = $('reconcile-result');
    const failed = $('reconcile-error');
    button.addEventListener('click', async () => {
      GK.hide(result);
      GK.hide(failed);
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      try {
        const r = await GK.api('POST', '/api/v1/admin/payments/reconcile');
        if (!r.ok) {
          if (!GK.handleAuthErrors(r)) GK.show(failed, (r.data.error && r.data.error.message) || '对账失败，请稍后再试');
          return;
        }
        const d = r.data;
        GK.show(result, `对账完成：查询订单 ${d.checked} 笔，确认到账 ${d.settled} 笔，其中对账异常 ${d.mismatches} 笔。`);
        result.dataset.checked = String(d.checked);
        result.dataset.settled = String(d.settled);
        result.dataset.mismatches = String(d.mismatches);
      } finally {
        button.disabled = false;
        button.setAttribute('aria-busy', 'false');
      }
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (!GK) return;
    initFees();
    initOffline();
    initReconcile();
  });
})();
