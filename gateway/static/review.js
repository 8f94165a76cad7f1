/* 报名审核: the queue's 批量通过 and the case page's decision panel and 一级 materials.
   Everything goes through the JSON API with app.js's helpers (window.GK); the service checks
   each decision again (scope, level, version). */
(() => {
  'use strict';

  const GK = window.GK;
  const QUEUE_KEY = 'gk_review_queue';
  const L = GK ? GK.labels() : {};            // review's labels, embedded by the page
  const LEVELS = L.levels || {};
  const DECISIONS = L.decisions || {};
  const $ = (id) => document.getElementById(id);

  function remember(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* storage off */ }
  }

  function recall(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }

  /** The queue the administrator came from (with its filters), else the default one. */
  function queueUrl() {
    const url = recall(QUEUE_KEY);
    return url && url.startsWith('/admin/reviews') ? url : '/admin/reviews';
  }

  function outcomeText(outcome, data) {
    switch (outcome) {
      case 'step_passed': return `审核通过，已转至${LEVELS[data.level] || '下一级'}审核`;
      case 'finally_approved': return '终审通过';
      case 'returned': return '已退回报考人员修改';
      case 'rejected': return '审核不通过，已终止其本年度申报';
      case 'reopened': return '已重新退回报考人员修改';
      default: return '已提交';
    }
  }

  function errorText(error) {
    return (error && error.message) || '操作失败，请稍后再试';
  }

  // --- the queue ---------------------------------------------------------------------------
  function initQueue() {
    const root = $('review-queue');
    if (!root) return;
    remember(QUEUE_KEY, window.location.pathname + window.location.search);
    const button = $('batch-pass');
    if (!button) return;
    const all = $('check-all');
    const boxes = () => [...root.querySelectorAll('input.row-check')];
    const chosen = () => boxes().filter((b) => b.checked && !b.disabled);
    const sync = () => {
      const n = chosen().length;
      $('selected-count').textContent = String(n);
      button.disabled = n === 0;
      const open = boxes().filter((b) => !b.disabled);
      if (all) {
        all.checked = open.length > 0 && n === open.length;
        all.indeterminate = n > 0 && n < open.length;
        all.disabled = open.length === 0;
      }
    };
    root.addEventListener('change', (ev) => { if (ev.target.classList.contains('row-check')) sync(); });
    if (all) all.addEventListener('change', () => { boxes().forEach((b) => { if (!b.disabled) b.checked = all.checked; }); sync(); });
    sync();

    button.addEventListener('click', async () => {
      const picked = chosen();
      if (!picked.length) return;
      const names = picked.slice(0, 5).map((b) => b.dataset.name).join('、') + (picked.length > 5 ? ' 等' : '');
      if (!window.confirm(`确定将选中的 ${picked.length} 条报名信息（${names}）审核通过吗？`)) return;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      try {
        const r = await GK.api('POST', '/api/v1/admin/reviews/decisions',
          { application_ids: picked.map((b) => b.value), decision: 'pass' });
        if (!r.ok) {
          if (!GK.handleAuthErrors(r)) GK.pageAlert(errorText(r.data.error));
          return;
        }
        showBatch(r.data, picked);
      } finally {
        button.removeAttribute('aria-busy');
        sync();
      }
    });
  }

  function showBatch(data, picked) {
    const byId = new Map(picked.map((b) => [b.value, b]));
    $('batch-summary').textContent = `批量通过完成：成功 ${data.succeeded} 条，失败 ${data.failed} 条。`;
    $('batch-summary').className = `batch-summary ${data.failed ? 'has-failed' : 'all-ok'}`;
    const tbody = $('batch-table').querySelector('tbody');
    tbody.replaceChildren();
    for (const res of data.results || []) {
      const box = byId.get(res.application_id);
      const tr = document.createElement('tr');
      tr.className = res.ok ? 'ok' : 'failed';
      tr.dataset.id = res.application_id;
      const cells = [box ? box.dataset.name : res.application_id, box ? box.dataset.idNumber : '—',
        res.ok ? '成功' : '失败', res.ok ? outcomeText(res.outcome, {}) : errorText(res.error)];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
      if (box && res.ok) {
        const row = box.closest('tr');
        box.checked = false;
        box.disabled = true;
        if (row) {
          row.classList.add('decided');
          const status = row.querySelector('.q-status');
          if (status) status.textContent = '已审核通过';
        }
      }
    }
    $('batch-refresh').href = window.location.pathname + window.location.search;
    $('batch-result').hidden = false;
    $('batch-result').scrollIntoView({ block: 'nearest' });
  }

  // --- the case ----------------------------------------------------------------------------
  function caseData() {
    const el = $('case-data');
    return el ? JSON.parse(el.textContent) : null;
  }

  function fieldError(form, field, message) {
    GK.showError(form, { field, message });
  }

  /** 409: someone else decided meanwhile, or the case moved on; say where it is now. */
  function showConflict(form, error) {
    const box = form.querySelector('#decision-conflict');
    const details = (error && error.details) || {};
    let text = errorText(error);
    if (details.status_name && !text.includes(details.status_name)) text += `（当前状态：${details.status_name}）`;
    $('decision-conflict-text').textContent = `${text}。请点击“刷新”查看最新情况。`.replace('。。', '。');
    box.hidden = false;
    box.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  async function sendDecision(form, data, decision, reason) {
    GK.clearErrors(form);
    $('decision-conflict').hidden = true;
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const r = await GK.api('POST', `/api/v1/admin/reviews/${encodeURIComponent(data.application_id)}/decisions`,
        { decision, reason, version: data.version });
      if (r.ok) {
        GK.flash(`已提交审核意见：${data.name}（${data.id_number}）${DECISIONS[decision] || ''}。${outcomeText(r.data.outcome, r.data)}。`);
        window.location.assign(queueUrl());
        return;
      }
      if (GK.handleAuthErrors(r)) return;
      const error = r.data.error || {};
      if (r.status === 409) { showConflict(form, error); return; }
      if (error.field === 'reason' || error.code === 'reason_required') {
        fieldError(form, 'reason', errorText(error));
        return;
      }
      if (error.field === 'decision') { fieldError(form, 'decision', errorText(error)); return; }
      GK.showError(form, { message: errorText(error) });
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  }

  function initDecision(data) {
    const form = $('decision-form');
    if (!form) return;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      GK.clearErrors(form);
      const picked = form.querySelector('input[name=decision]:checked');
      if (!picked) { fieldError(form, 'decision', '请选择审核结果'); return; }
      const reason = $('f-reason').value.trim();
      if (picked.value === 'reject' && reason
          && !window.confirm('审核不通过将终止该报考人员本年度申报，报考人员无法再修改提交。确定审核不通过吗？')) return;
      sendDecision(form, data, picked.value, reason);
    });
    const mark = form.querySelector('label[for=f-reason] .req');
    form.querySelectorAll('input[name=decision]').forEach((radio) => {
      radio.addEventListener('change', () => { if (mark) mark.hidden = radio.value === 'pass'; });
    });
  }

  function initReopen(data) {
    const form = $('reopen-form');
    if (!form) return;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      sendDecision(form, data, 'reopen', $('f-reopen-reason').value.trim());
    });
  }

  function initMaterials(data) {
    document.querySelectorAll('input[data-material-input]').forEach((input) => {
      input.addEventListener('change', async () => {
        const kind = input.dataset.materialInput;
        const slot = input.closest('[data-material]');
        const errorEl = slot.querySelector('[data-error-for]');
        GK.hide(errorEl);
        const file = input.files && input.files[0];
        if (!file) return;
        if (!['image/jpeg', 'image/png'].includes(file.type)) { GK.show(errorEl, '请选择 JPG 或 PNG 格式的图片'); return; }
        if (file.size > 5 * 1024 * 1024) { GK.show(errorEl, '上传文件不能超过5MB'); return; }
        const fd = new FormData();
        fd.append('file', file, file.name);
        slot.classList.add('uploading');
        try {
          const r = await GK.api('PUT', `/api/v1/admin/reviews/${encodeURIComponent(data.application_id)}/files/${kind}`, fd);
          if (!r.ok) {
            if (!GK.handleAuthErrors(r)) GK.show(errorEl, errorText(r.data.error));
            return;
          }
          GK.flash(`${(L.materials || {})[kind] || '材料'}已上传。`);
          window.location.reload();   // the case's version changed: the decision must use the new one
        } finally {
          slot.classList.remove('uploading');
          input.value = '';
        }
      });
    });
  }

  function initCase() {
    const data = caseData();
    if (!data) return;
    const back = $('back-to-queue');
    if (back) back.href = queueUrl();
    const refresh = $('decision-refresh');
    if (refresh) refresh.addEventListener('click', () => window.location.reload());
    initDecision(data);
    initReopen(data);
    initMaterials(data);
  }

  function init() {
    if (!GK) return;
    initQueue();
    initCase();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
