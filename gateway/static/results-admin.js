/* 考核结果管理 (R-D3, R-D4, R-D6): the score and history imports sent to the JSON API with their
   reports shown in Chinese, and a bulk certificate job followed every 2 s until it is done (the
   page also follows it without script: 刷新进度 reloads it). Uses window.GK from app.js. */
(() => {
  'use strict';

  const POLL_MS = 2000;
  const MAX_UPLOAD = 5 * 1024 * 1024;

  function cell(tr, value) {
    const td = document.createElement('td');
    td.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
    tr.appendChild(td);
  }

  function fillTable(id, rows, columns) {
    const table = document.getElementById(id);
    const box = document.getElementById(`${id}-box`);
    const tbody = table.querySelector('tbody');
    tbody.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      if (row.line !== undefined) tr.dataset.line = String(row.line);
      for (const column of columns) cell(tr, column(row));
      tbody.appendChild(tr);
    }
    if (box) box.hidden = !rows.length;
  }

  /** 职业道德 34，职业能力 80，岗位技能 80 (in the subjects' order). */
  function scoresText(scores) {
    const subjects = (GK.labels().subjects) || Object.keys(scores || {});
    return subjects.filter((s) => scores && s in scores).map((s) => `${s} ${scores[s]}`).join('，');
  }

  const reports = {
    scores(data) {
      const replaced = data.replaced || [];
      const refused = data.refused || [];
      let text = `成功导入 ${data.imported || 0} 人的成绩`;
      if (replaced.length) text += `（其中 ${replaced.length} 人为更正原有成绩）`;
      text += `；${data.unchanged || 0} 人与原成绩相同，未变化；${refused.length} 行未导入。`;
      document.getElementById('scores-summary').textContent = text;
      fillTable('scores-replaced', replaced, [(r) => r.line, (r) => r.ticket_no, (r) => scoresText(r.before),
        (r) => scoresText(r.after)]);
      fillTable('scores-refused', refused, [(r) => r.line, (r) => r.ticket_no, (r) => r.reason]);
    },
    history(data) {
      const refused = data.refused || [];
      document.getElementById('history-summary').textContent =
        `成功导入 ${data.imported || 0} 条考核记录；${refused.length} 行未导入。`;
      fillTable('history-refused', refused, [(r) => r.line, (r) => r.reason]);
    },
  };

  function initUploads() {
    document.querySelectorAll('form[data-upload-api]').forEach((form) => {
      const kind = form.dataset.report;
      const report = document.getElementById(`${kind}-report`);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        GK.clearErrors(form);
        const input = form.querySelector('input[type=file]');
        const file = input.files && input.files[0];
        const what = input.dataset.what || '文件';
        if (!file) { GK.showError(form, { field: 'file', message: `请选择要导入的${what}（Excel 或 CSV）` }); return; }
        if (file.size > MAX_UPLOAD) { GK.showError(form, { field: 'file', message: '上传文件不能超过5MB' }); return; }
        if (!/\.(xlsx|csv)$/i.test(file.name)) {
          GK.showError(form, { field: 'file', message: `${what}须为 Excel（.xlsx）或 CSV 文件` });
          return;
        }
        const button = form.querySelector('button[type=submit]');
        button.disabled = true;
        report.hidden = true;
        try {
          const body = new FormData();
          body.append('file', file, file.name);
          const r = await GK.api('PUT', form.dataset.uploadApi, body);
          if (!r.ok) {
            if (!GK.handleAuthErrors(r, form)) GK.showError(form, r.data.error);
            return;
          }
          reports[kind](r.data);
          report.hidden = false;
          report.scrollIntoView({ block: 'nearest' });
          form.reset();
          input.dispatchEvent(new Event('change'));
        } finally {
          button.disabled = false;
        }
      });
    });
  }

  /** The bulk job: its status, count and bar every 2 s; the ZIP link once it is done. */
  function followJob() {
    const panel = document.getElementById('cert-job-panel');
    if (!panel || ['done', 'failed'].includes(panel.dataset.status)) return;
    const names = (GK.labels().jobs) || {};
    const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
    const tick = async () => {
      const r = await GK.api('GET', `/api/v1/admin/document-jobs/${encodeURIComponent(panel.dataset.job)}`);
      if (!r.ok) {
        if (GK.handleAuthErrors(r, null)) return;
        window.setTimeout(tick, POLL_MS * 2);      // a hiccup: try again a little later
        return;
      }
      const job = r.data;
      panel.dataset.status = job.status;
      set('cert-job-status', names[job.status] || job.status);
      set('cert-job-done', String(job.done));
      set('cert-job-total', String(job.total));
      const bar = document.getElementById('cert-job-progress');
      bar.max = job.total || 1;
      bar.value = job.total ? job.done : (job.status === 'done' ? 1 : 0);
      if (job.status === 'done' || job.status === 'failed') {
        document.getElementById('cert-job-zip').hidden = !(job.status === 'done' && job.total);
        document.getElementById('cert-job-empty').hidden = !(job.status === 'done' && !job.total);
        document.getElementById('cert-job-failed').hidden = job.status !== 'failed';
        document.getElementById('cert-job-refresh').hidden = true;
        return;
      }
      window.setTimeout(tick, POLL_MS);
    };
    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    initUploads();
    followJob();
  });
})();
