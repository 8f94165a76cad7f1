/* 考场安排 (R-D1, R-D6): the Excel/CSV imports (to the JSON API, the refused lines listed), a
   confirmation before deleting a site, and a bulk job's progress followed every 2 s until its
   ZIP can be downloaded. Everything else on the page is a plain form that works without script. */
(() => {
  'use strict';

  const GK = window.GK;
  const POLL_MS = 2000;

  function initImports() {
    document.querySelectorAll('form[data-import]').forEach((form) => {
      const alertBox = form.querySelector('[data-form-alert]');
      const refused = form.querySelector('[data-refused]');
      const button = form.querySelector('button[type=submit]');
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        GK.clearErrors(form);
        refused.hidden = true;
        const input = form.querySelector('input[type=file]');
        const file = input.files && input.files[0];
        if (!file) { GK.showError(form, { field: 'file', message: '请选择要导入的 Excel 或 CSV 文件' }); return; }
        if (file.size > 5 * 1024 * 1024) { GK.showError(form, { field: 'file', message: '上传文件不能超过5MB' }); return; }
        const body = new FormData();
        body.append('file', file, file.name);
        button.disabled = true;
        try {
          const r = await GK.api('PUT', form.dataset.import, body);
          if (!r.ok) {
            if (GK.handleAuthErrors(r, form)) return;
            const error = r.data.error || {};
            GK.show(alertBox, error.message || '导入失败，请稍后再试');
            const rows = (error.details && error.details.refused) || [];
            const tbody = refused.querySelector('tbody');
            tbody.replaceChildren();
            for (const row of rows) {
              const tr = document.createElement('tr');
              for (const value of [row.line, row.reason]) {
                const td = document.createElement('td');
                td.textContent = value == null ? '—' : String(value);
                tr.appendChild(td);
              }
              tbody.appendChild(tr);
            }
            refused.hidden = !rows.length;
            alertBox.scrollIntoView({ block: 'center', behavior: 'smooth' });
            return;
          }
          const section = form.closest('section');
          window.location.assign(`/admin/exam?year=${encodeURIComponent(form.dataset.year)}`
            + `&saved=${encodeURIComponent(form.dataset.done)}#${section ? section.id : ''}`);
        } finally {
          button.disabled = false;
        }
      });
    });
  }

  function initConfirms() {
    document.querySelectorAll('form[data-confirm]').forEach((form) => {
      form.addEventListener('submit', (ev) => {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
  }

  function initJob() {
    const panel = document.getElementById('job-panel');
    if (!panel || !['queued', 'running'].includes(panel.dataset.status)) return;
    const names = (GK.labels().jobs) || {};
    const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
    const tick = async () => {
      const r = await GK.api('GET', `/api/v1/admin/document-jobs/${encodeURIComponent(panel.dataset.job)}`);
      if (!r.ok) {
        if (GK.handleAuthErrors(r)) return;
        window.setTimeout(tick, POLL_MS * 2);     // a hiccup: try again a little later
        return;
      }
      const job = r.data;
      panel.dataset.status = job.status;
      set('job-status', names[job.status] || job.status);
      set('job-done', String(job.done));
      set('job-total', String(job.total));
      const bar = document.getElementById('job-progress');
      if (bar) {
        bar.max = job.total || 1;
        bar.value = job.total ? job.done : (job.status === 'done' ? 1 : 0);
      }
      if (job.status === 'done' || job.status === 'failed') {
        document.getElementById('job-zip').hidden = job.status !== 'done';
        document.getElementById('job-failed').hidden = job.status !== 'failed';
        document.getElementById('job-refresh').hidden = true;
        return;
      }
      window.setTimeout(tick, POLL_MS);
    };
    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (!GK) return;
    initImports();
    initConfirms();
    initJob();
  });
})();
