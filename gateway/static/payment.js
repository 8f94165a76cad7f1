/* 网上缴费 (R-F3, R-F4): 收据名称 → 下一步 → the confirmation with its countdown → 确认缴费
   (an order through the JSON API, then the non-tax platform's pay page); 取消缴费 goes back to
   the title before any order is made; 继续支付 / 取消订单 / 刷新 for an open order. The labels
   come from the page (GK.labels(), payment's schemas); the service decides everything. */
(() => {
  'use strict';

  const GK = window.GK;
  const $ = (id) => document.getElementById(id);
  const POLL_EVERY_MS = 3000;
  const POLL_FOR_MS = 120000;

  function initReceipt(root) {
    const form = $('receipt-form');
    if (!form) return;
    const titleView = $('pay-step-title');
    const confirmView = $('pay-step-confirm');
    const input = $('f-receipt_title');
    const confirmButton = $('confirm-pay');
    const cancelButton = $('cancel-pay');
    const countdown = $('confirm-countdown');
    const secondsEl = $('confirm-seconds');
    const reload = $('pay-reload');
    const seconds = Math.max(1, Number(root.dataset.confirmSeconds) || 5);
    let timer = null;
    let title = '';

    const stop = () => { window.clearInterval(timer); timer = null; };

    const backToTitle = () => {
      stop();
      GK.clearErrors(confirmView);
      confirmView.hidden = true;
      titleView.hidden = false;
      if (!input.readOnly) input.focus();
    };

    const startCountdown = () => {
      stop();
      let left = seconds;
      confirmButton.disabled = true;
      countdown.hidden = false;
      secondsEl.textContent = String(left);
      timer = window.setInterval(() => {
        left -= 1;
        if (left <= 0) {
          stop();
          countdown.hidden = true;
          confirmButton.disabled = false;
        } else {
          secondsEl.textContent = String(left);
        }
      }, 1000);
    };

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      title = input.value.trim().replace(/\s+/g, ' ');
      if (!title) {
        GK.showError(form, { field: 'receipt_title', message: '请填写收据名称' });
        return;
      }
      $('confirm-title').textContent = title;
      GK.clearErrors(confirmView);
      reload.hidden = true;
      cancelButton.disabled = false;
      titleView.hidden = true;
      confirmView.hidden = false;
      confirmView.scrollIntoView({ block: 'start' });
      startCountdown();
    });

    cancelButton.addEventListener('click', backToTitle);
    reload.addEventListener('click', () => window.location.assign('/payment'));

    confirmButton.addEventListener('click', async () => {
      if (timer !== null || !title) return;
      GK.clearErrors(confirmView);
      confirmButton.disabled = true;
      cancelButton.disabled = true;
      confirmButton.setAttribute('aria-busy', 'true');
      const r = await GK.api('POST', '/api/v1/me/payment/orders', { receipt_title: title });
      confirmButton.setAttribute('aria-busy', 'false');
      if (r.ok && r.data && r.data.pay_url) {
        window.location.assign(r.data.pay_url);   // 系统将自动跳转至非税平台
        return;
      }
      if (GK.handleAuthErrors(r)) return;
      const error = r.data.error;
      cancelButton.disabled = false;
      if (error.field === 'receipt_title') {
        backToTitle();
        GK.showError(form, error);
        return;
      }
      GK.showError(confirmView, error);
      if (['order_open', 'already_paid', 'receipt_title_fixed'].includes(error.code)) {
        reload.hidden = false;                      // the page's state changed elsewhere
      } else if (error.code !== 'not_open') {
        confirmButton.disabled = false;             // e.g. the platform was away: try again
      }
    });
  }

  function initOpenOrder(root) {
    const box = $('open-order');
    if (!box) return;
    const cancel = $('cancel-order');
    const refresh = $('pay-refresh');
    refresh.addEventListener('click', () => window.location.reload());
    cancel.addEventListener('click', async () => {
      if (!window.confirm('确定取消该订单吗？取消后可重新缴费，收据名称本年度不能修改。')) return;
      GK.clearErrors(box);
      cancel.disabled = true;
      const r = await GK.api('POST', `/api/v1/me/payment/orders/${encodeURIComponent(cancel.dataset.order)}/cancel`);
      if (r.ok) {
        GK.flash('订单已取消。');
        window.location.assign('/payment');
        return;
      }
      if (GK.handleAuthErrors(r)) return;
      cancel.disabled = false;
      GK.showError(box, r.data.error);
    });

    // Back from the platform: the callback may take a moment; the page follows by itself.
    if (!$('pay-waiting')) return;
    const names = (GK.labels().statuses) || {};
    const started = Date.now();
    const poll = async () => {
      if (Date.now() - started > POLL_FOR_MS) return;
      const r = await GK.api('GET', '/api/v1/me/payment');
      if (r.ok && r.data && r.data.status !== root.dataset.status) {
        const status = $('pay-status');
        if (status && names[r.data.status]) status.textContent = names[r.data.status];
        window.location.reload();
        return;
      }
      window.setTimeout(poll, POLL_EVERY_MS);
    };
    window.setTimeout(poll, POLL_EVERY_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    const root = $('payment-page');
    if (!root || !GK) return;
    initReceipt(root);
    initOpenOrder(root);
  });
})();
