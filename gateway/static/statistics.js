/* 报名统计 (issue 14): the bar chart of the groups and the trend over the years, drawn with the
   vendored Chart.js (static/vendor/chartjs, MIT) from the numbers the page already shows in its
   tables (a JSON block the server fills). Without script the tables are the page. */
(() => {
  'use strict';

  const BAR_LIMIT = 30;                 // more groups than this: the largest ones are drawn
  const COLORS = ['#0b4f9c', '#5b8fd6', '#2e9e5b', '#e0a21b', '#c8553d'];
  const FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';

  function data() {
    const el = document.getElementById('stats-chart-data');
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }

  function datasets(series, rows, line) {
    return series.map(([key, label], i) => ({
      label,
      data: rows.map((r) => r[key] || 0),
      backgroundColor: COLORS[i % COLORS.length],
      borderColor: COLORS[i % COLORS.length],
      borderWidth: line ? 2 : 0,
      tension: 0.2,
      fill: false,
    }));
  }

  function options(horizontal) {
    const counts = { beginAtZero: true, ticks: { precision: 0 } };
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? 'y' : 'x',
      scales: horizontal ? { x: counts } : { y: counts },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    };
  }

  function init() {
    const d = data();
    const Chart = window.Chart;
    if (!d || typeof Chart !== 'function') return;
    Chart.defaults.font.family = FONT;
    const note = document.getElementById('stats-charts-note');

    // the groups as horizontal bars (long Chinese names read well at phone width too)
    let rows = d.rows || [];
    if (rows.length > BAR_LIMIT) {
      rows = [...rows].sort((a, b) => (b.registered || 0) - (a.registered || 0)).slice(0, BAR_LIMIT);
      note.textContent = `共 ${d.rows.length} 项，柱状图显示注册人数最多的 ${BAR_LIMIT} 项；全部数字见上方统计表。`;
      note.hidden = false;
    }
    const barBox = document.getElementById('stats-bar-box');
    barBox.style.height = `${Math.max(220, 60 + rows.length * 8 * d.series.length)}px`;
    const bar = document.getElementById('stats-bar');
    bar.chart = new Chart(bar, {
      type: 'bar',
      data: { labels: rows.map((r) => r.name), datasets: datasets(d.series, rows, false) },
      options: options(true),
    });

    const trend = document.getElementById('stats-trend');
    const years = d.trend || [];
    trend.chart = new Chart(trend, {
      type: years.length > 1 ? 'line' : 'bar',
      data: { labels: years.map((t) => `${t.year}年`), datasets: datasets(d.series, years, true) },
      options: options(false),
    });
    document.getElementById('stats-charts').dataset.drawn = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
