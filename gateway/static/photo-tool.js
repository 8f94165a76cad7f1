/* 工考照片审核工具 (R-P3): crops and scales a photo to the 2-inch spec in the browser and checks it
   against the same rules the server applies on upload (R-A5). Plain ES2020, no libraries, nothing
   from the network: the photo never leaves the computer. The figures come from PHOTO_SPEC, which
   the page embeds as JSON in #photo-spec. */
(() => {
  'use strict';

  const root = document.getElementById('photo-tool');
  const specEl = document.getElementById('photo-spec');
  if (!root || !specEl) return;

  const SPEC = JSON.parse(specEl.textContent);
  const OUT_W = SPEC.width;
  const OUT_H = SPEC.height;
  const RATIO = SPEC.ratio;               // width / height of the crop frame (5:7)
  const NAMES = { 'image/jpeg': 'JPG', 'image/png': 'PNG' };
  const MAGIC = [
    { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
    { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  ];
  const ALLOWED = SPEC.content_types.filter((t) => NAMES[t]);
  const FORMATS = ALLOWED.map((t) => NAMES[t]).join(' 或 ');
  const MAX_ZOOM = 5;                     // the frame can shrink to a fifth of its largest size
  const HANDLE = 14;                      // corner handle, CSS pixels
  const CHECKS = ['format', 'size', 'pixels', 'ratio', 'output'];
  const FILE_NAME = `个人照片_${OUT_W}x${OUT_H}.jpg`;
  const FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';

  const $ = (id) => document.getElementById(id);
  const input = $('photo-file');
  const fileName = $('photo-file-name');
  const message = $('photo-message');
  const canvas = $('photo-canvas');
  const ctx = canvas.getContext('2d');
  const preview = $('photo-preview');
  const pctx = preview.getContext('2d');
  const zoom = $('photo-zoom');
  const cropSize = $('photo-crop-size');
  const download = $('photo-download');
  zoom.max = String(MAX_ZOOM * 100);

  const mb = (bytes) => (bytes < 1048576 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1048576).toFixed(1)} MB`);
  const maxMb = `${+(SPEC.max_bytes / 1048576).toFixed(2)} MB`;

  // --- state ------------------------------------------------------------------------------
  const state = {
    status: 'empty',    // empty | loading | refused | ready
    token: 0,           // the newest file; older loads are ignored
    file: null,
    type: null,
    image: null,        // HTMLImageElement, EXIF orientation applied by the browser
    url: null,
    imgW: 0,
    imgH: 0,
    view: null,         // {scale, ox, oy, thumb}: the image as shown on the editor canvas
    crop: null,         // {x, y, w} in image pixels; height = w / RATIO
    checks: {},         // key -> {passed: true|false|null, detail}
    drag: null,
  };

  const cropH = (c) => c.w / RATIO;
  const maxCropW = () => Math.min(state.imgW, state.imgH * RATIO);
  const minCropW = () => maxCropW() / MAX_ZOOM;
  const cropPixels = () => {
    const c = state.crop;
    return c ? { w: Math.round(c.w + 1e-6), h: Math.round(cropH(c) + 1e-6) } : { w: 0, h: 0 };
  };
  const cropBox = () => {
    const c = state.crop;
    return { x: Math.round(c.x), y: Math.round(c.y), ...cropPixels() };
  };

  function clampCrop() {
    const c = state.crop;
    c.w = Math.min(Math.max(c.w, minCropW()), maxCropW());
    c.x = Math.min(Math.max(c.x, 0), state.imgW - c.w);
    c.y = Math.min(Math.max(c.y, 0), state.imgH - cropH(c));
  }

  // --- messages and the checklist -----------------------------------------------------------
  function say(text, ok) {
    message.textContent = text;
    message.classList.toggle('alert-success', !!ok);
    message.hidden = !text;
  }

  function setCheck(key, passed, detail) {
    state.checks[key] = { passed, detail: detail || '' };
    const li = root.querySelector(`[data-check="${key}"]`);
    if (!li) return;
    li.classList.toggle('is-ok', passed === true);
    li.classList.toggle('is-fail', passed === false);
    li.classList.toggle('is-pending', passed !== true && passed !== false);
    li.querySelector('.pt-detail').textContent = detail || '';
  }

  function resetChecks() {
    for (const key of CHECKS) setCheck(key, null, '');
  }

  function allPassed() {
    return state.status === 'ready' && CHECKS.every((k) => state.checks[k] && state.checks[k].passed === true);
  }

  function setStatus(status) {
    state.status = status;
    root.dataset.state = status;
  }

  // --- reading the file -------------------------------------------------------------------
  async function sniff(file) {
    const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    const hit = MAGIC.find((m) => m.bytes.every((b, i) => head[i] === b));
    return hit && ALLOWED.includes(hit.type) ? hit.type : null;
  }

  function decode(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('decode'));
      img.src = url;
    });
  }

  function forgetImage() {
    if (state.url) URL.revokeObjectURL(state.url);
    Object.assign(state, { image: null, url: null, imgW: 0, imgH: 0, view: null, crop: null, drag: null });
    zoom.disabled = true;
    zoom.value = '100';
    cropSize.textContent = '';
  }

  async function choose(file) {
    const token = ++state.token;
    forgetImage();
    resetChecks();
    say('', false);
    state.file = file;
    state.type = null;
    fileName.textContent = file ? file.name : '未选择文件';
    if (!file) {
      setStatus('empty');
      render();
      return;
    }
    setStatus('loading');
    render();

    const problems = [];
    const type = file.size > 0 ? await sniff(file) : null;
    if (token !== state.token) return;
    state.type = type;
    if (file.size === 0) {
      setCheck('format', false, '文件为空');
      problems.push(`所选文件“${file.name}”是空文件，请重新选择照片。`);
    } else if (!type) {
      setCheck('format', false, `不是 ${FORMATS} 图片`);
      problems.push(`所选文件“${file.name}”不是 ${FORMATS} 格式的图片（按文件内容检查，修改扩展名无效），请重新选择。`);
    } else {
      setCheck('format', true, NAMES[type]);
    }
    if (file.size > SPEC.max_bytes) {
      setCheck('size', false, `${mb(file.size)}，超过 ${maxMb}`);
      problems.push(`文件大小为 ${mb(file.size)}，超过 ${maxMb} 的限制，请选择较小的照片。`);
    } else {
      setCheck('size', file.size > 0, mb(file.size));
    }
    if (problems.length) {
      refuse(problems.join(''));
      return;
    }

    const url = URL.createObjectURL(file);
    let image;
    try {
      image = await decode(url);
    } catch (e) {
      URL.revokeObjectURL(url);
      if (token !== state.token) return;
      setCheck('format', false, '无法读取');
      refuse(`所选文件“${file.name}”已损坏或无法读取，请重新选择 ${FORMATS} 格式的照片。`);
      return;
    }
    if (token !== state.token) {
      URL.revokeObjectURL(url);
      return;
    }
    Object.assign(state, { image, url, imgW: image.naturalWidth, imgH: image.naturalHeight });
    const w = maxCropW();
    state.crop = { x: (state.imgW - w) / 2, y: (state.imgH - w / RATIO) / 2, w };
    state.view = makeView();
    zoom.disabled = false;
    setStatus('ready');
    update();
  }

  function refuse(text) {
    forgetImage();
    setStatus('refused');
    say(text, false);
    render();
  }

  // --- the editor canvas --------------------------------------------------------------------
  /** The image fitted into the canvas, pre-scaled once (smooth, and cheap to redraw). */
  function makeView() {
    const pad = 12 * unit;
    const scale = Math.min((canvas.width - 2 * pad) / state.imgW, (canvas.height - 2 * pad) / state.imgH);
    const w = Math.max(1, Math.round(state.imgW * scale));
    const h = Math.max(1, Math.round(state.imgH * scale));
    const thumb = document.createElement('canvas');
    thumb.width = w;
    thumb.height = h;
    const t = thumb.getContext('2d');
    t.fillStyle = '#fff';
    t.fillRect(0, 0, w, h);
    t.imageSmoothingEnabled = true;
    t.imageSmoothingQuality = 'high';
    t.drawImage(state.image, 0, 0, w, h);
    return { scale, ox: Math.round((canvas.width - w) / 2), oy: Math.round((canvas.height - h) / 2), thumb };
  }

  function cropRectOnCanvas() {
    const { scale, ox, oy } = state.view;
    const c = state.crop;
    return { x: ox + c.x * scale, y: oy + c.y * scale, w: c.w * scale, h: cropH(c) * scale };
  }

  function drawEditor() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (state.status !== 'ready') {
      ctx.fillStyle = '#8a94a3';
      ctx.font = `${16 * unit}px ${FONT}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      const text = state.status === 'loading' ? '正在读取照片…' : '点击此处或“选择照片”按钮，选择要裁剪的照片';
      ctx.fillText(text, canvas.width / 2, canvas.height / 2 - 12 * unit);
      ctx.font = `${13 * unit}px ${FONT}`;
      ctx.fillText(`${FORMATS} 格式，不超过 ${maxMb}；也可以把照片拖到这里`, canvas.width / 2, canvas.height / 2 + 14 * unit);
      return;
    }
    const { ox, oy, thumb } = state.view;
    ctx.drawImage(thumb, ox, oy);
    const r = cropRectOnCanvas();
    // While the page is still laying out (a phone rotating, a canvas not sized yet) the
    // frame can have no size at all: draw it on the next frame instead.
    if (!(r.w > 0 && r.h > 0)) return;
    // Dim everything outside the frame.
    ctx.fillStyle = 'rgba(20, 28, 40, 0.55)';
    ctx.beginPath();
    ctx.rect(ox, oy, thumb.width, thumb.height);
    ctx.rect(r.x, r.y, r.w, r.h);
    ctx.fill('evenodd');
    // Guides: thirds, and where the head should sit.
    ctx.save();
    ctx.beginPath();
    ctx.rect(r.x, r.y, r.w, r.h);
    ctx.clip();
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.45)';
    ctx.lineWidth = unit;
    ctx.beginPath();
    for (let i = 1; i < 3; i += 1) {
      ctx.moveTo(r.x + (r.w * i) / 3, r.y);
      ctx.lineTo(r.x + (r.w * i) / 3, r.y + r.h);
      ctx.moveTo(r.x, r.y + (r.h * i) / 3);
      ctx.lineTo(r.x + r.w, r.y + (r.h * i) / 3);
    }
    ctx.stroke();
    ctx.setLineDash([5 * unit, 4 * unit]);
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
    ctx.beginPath();
    ctx.ellipse(r.x + r.w / 2, r.y + r.h * 0.4, r.w * 0.27, r.h * 0.25, 0, 0, Math.PI * 2);
    ctx.stroke();
    ctx.restore();
    // The frame and its corner handles.
    const ok = state.checks.pixels && state.checks.pixels.passed;
    ctx.strokeStyle = ok ? '#2f9e44' : '#e03131';
    ctx.lineWidth = 2 * unit;
    ctx.strokeRect(r.x, r.y, r.w, r.h);
    ctx.fillStyle = '#fff';
    const size = HANDLE * unit;
    for (const [cx, cy] of corners(r)) {
      ctx.fillRect(cx - size / 2, cy - size / 2, size, size);
      ctx.strokeRect(cx - size / 2, cy - size / 2, size, size);
    }
  }

  function corners(r) {
    return [[r.x, r.y], [r.x + r.w, r.y], [r.x, r.y + r.h], [r.x + r.w, r.y + r.h]];
  }

  // --- the 413×579 result -----------------------------------------------------------------
  function drawPreview() {
    pctx.setTransform(1, 0, 0, 1, 0, 0);
    pctx.fillStyle = '#fff';                // transparency is flattened onto white, as on the server
    pctx.fillRect(0, 0, OUT_W, OUT_H);
    if (state.status !== 'ready') return;
    const c = state.crop;
    const h = cropH(c);
    // The server trims the ratio's tiny excess centrally rather than distorting: so do we.
    let sx = c.x;
    let sy = c.y;
    let sw = c.w;
    let sh = h;
    if (sw / sh > OUT_W / OUT_H) {
      sw = sh * (OUT_W / OUT_H);
      sx += (c.w - sw) / 2;
    } else {
      sh = sw / (OUT_W / OUT_H);
      sy += (h - sh) / 2;
    }
    pctx.imageSmoothingEnabled = true;
    pctx.imageSmoothingQuality = 'high';
    pctx.drawImage(state.image, sx, sy, sw, sh, 0, 0, OUT_W, OUT_H);
  }

  function evaluate() {
    if (state.status !== 'ready') {
      download.disabled = true;
      return;
    }
    const px = cropPixels();
    const pixelsOk = px.w >= SPEC.min_width && px.h >= SPEC.min_height;
    setCheck('pixels', pixelsOk, `当前 ${px.w}×${px.h} 像素`);
    const deviation = Math.abs(px.w / px.h - RATIO) / RATIO;
    setCheck('ratio', deviation <= SPEC.tolerance + 1e-9, `当前 ${(px.w / px.h).toFixed(3)}，偏差 ${(deviation * 100).toFixed(1)}%`);
    const outOk = preview.width === OUT_W && preview.height === OUT_H;
    setCheck('output', outOk, `${preview.width}×${preview.height} 像素，JPG，${SPEC.dpi} dpi`);
    cropSize.textContent = `裁剪区域 ${px.w}×${px.h} 像素（原图 ${state.imgW}×${state.imgH}）`;

    if (!pixelsOk) {
      const whole = maxCropW();
      const wholePx = { w: Math.round(whole + 1e-6), h: Math.round(whole / RATIO + 1e-6) };
      if (wholePx.w < SPEC.min_width || wholePx.h < SPEC.min_height) {
        say(`照片像素不足：裁剪区域只有 ${px.w}×${px.h} 像素，小于要求的 ${SPEC.min_width}×${SPEC.min_height} 像素`
          + `（原图 ${state.imgW}×${state.imgH} 像素）。请换一张像素更高的照片。`, false);
      } else {
        say(`裁剪区域只有 ${px.w}×${px.h} 像素，小于要求的 ${SPEC.min_width}×${SPEC.min_height} 像素，请把裁剪框放大一些。`, false);
      }
    } else if (allPassed()) {
      say(`照片符合要求。调整好裁剪框后，点击“下载照片”保存 ${OUT_W}×${OUT_H} 像素的照片，再在报名信息的“个人照片”处上传。`, true);
    } else {
      say('照片不符合要求，请查看右侧的检查结果。', false);
    }
    download.disabled = !allPassed();
  }

  /** The editor's backing store follows its displayed size (crisp on phones and HiDPI screens). */
  let unit = 1;                           // canvas pixels per CSS pixel
  function fitCanvas() {
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(rect.width * dpr);
    const h = Math.round(rect.height * dpr);
    if (w !== canvas.width || h !== canvas.height) {
      canvas.width = w;
      canvas.height = h;
      if (state.status === 'ready') state.view = makeView();
    }
    unit = canvas.width / rect.width;
    render();
  }

  let frame = 0;
  function render() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawEditor();
      drawPreview();
    });
  }

  function update() {
    clampCrop();
    syncZoom();
    evaluate();
    render();
  }

  // --- moving and resizing the frame ---------------------------------------------------------
  function toCanvas(ev) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((ev.clientX - rect.left) * canvas.width) / rect.width,
      y: ((ev.clientY - rect.top) * canvas.height) / rect.height,
    };
  }

  function toImage(p) {
    const { scale, ox, oy } = state.view;
    return { x: (p.x - ox) / scale, y: (p.y - oy) / scale };
  }

  /** 'move', a corner (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) or null. */
  function hit(p, touch) {
    const r = cropRectOnCanvas();
    const reach = (touch ? HANDLE * 1.6 : HANDLE) * unit;
    const idx = corners(r).findIndex(([cx, cy]) => Math.abs(p.x - cx) <= reach && Math.abs(p.y - cy) <= reach);
    if (idx >= 0) return idx;
    if (p.x >= r.x && p.x <= r.x + r.w && p.y >= r.y && p.y <= r.y + r.h) return 'move';
    return null;
  }

  const CURSORS = ['nwse-resize', 'nesw-resize', 'nesw-resize', 'nwse-resize'];

  canvas.addEventListener('pointerdown', (ev) => {
    if (state.status !== 'ready') {
      if (state.status !== 'loading') input.click();
      return;
    }
    const p = toCanvas(ev);
    const what = hit(p, ev.pointerType === 'touch');
    if (what === null) return;
    ev.preventDefault();
    canvas.focus({ preventScroll: true });
    canvas.setPointerCapture(ev.pointerId);
    const c = state.crop;
    const anchor = typeof what === 'number'
      ? { x: what % 2 === 0 ? c.x + c.w : c.x, y: what < 2 ? c.y + cropH(c) : c.y } : null;
    state.drag = { id: ev.pointerId, what, start: toImage(p), crop: { ...c }, anchor };
  });

  canvas.addEventListener('pointermove', (ev) => {
    if (state.status !== 'ready') return;
    const p = toCanvas(ev);
    const drag = state.drag;
    if (!drag || drag.id !== ev.pointerId) {
      const what = hit(p, ev.pointerType === 'touch');
      canvas.style.cursor = what === null ? 'default' : what === 'move' ? 'move' : CURSORS[what];
      return;
    }
    ev.preventDefault();
    const q = toImage(p);
    if (drag.what === 'move') {
      state.crop.x = drag.crop.x + (q.x - drag.start.x);
      state.crop.y = drag.crop.y + (q.y - drag.start.y);
    } else {
      resizeFrom(drag.anchor, drag.what, q);
    }
    update();
  });

  function endDrag(ev) {
    if (state.drag && state.drag.id === ev.pointerId) state.drag = null;
  }
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);

  /** Resizes with the opposite corner fixed, keeping the ratio and staying inside the photo. */
  function resizeFrom(anchor, corner, q) {
    const right = corner % 2 === 1;
    const down = corner >= 2;
    const availW = right ? state.imgW - anchor.x : anchor.x;
    const availH = down ? state.imgH - anchor.y : anchor.y;
    let w = Math.max(Math.abs(q.x - anchor.x), Math.abs(q.y - anchor.y) * RATIO);
    w = Math.min(Math.max(w, minCropW()), availW, availH * RATIO);
    state.crop.w = w;
    state.crop.x = right ? anchor.x : anchor.x - w;
    state.crop.y = down ? anchor.y : anchor.y - w / RATIO;
  }

  /** Zooms about the frame's centre: the frame's width is the largest width / zoom. */
  function zoomTo(factor) {
    const c = state.crop;
    const cx = c.x + c.w / 2;
    const cy = c.y + cropH(c) / 2;
    c.w = maxCropW() / Math.min(Math.max(factor, 1), MAX_ZOOM);
    c.x = cx - c.w / 2;
    c.y = cy - cropH(c) / 2;
    update();
  }

  function syncZoom() {
    if (!state.crop) return;
    zoom.value = String(Math.round((maxCropW() / state.crop.w) * 100));
  }

  zoom.addEventListener('input', () => {
    if (state.status === 'ready') zoomTo(Number(zoom.value) / 100);
  });

  canvas.addEventListener('keydown', (ev) => {
    if (state.status !== 'ready') {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        input.click();
      }
      return;
    }
    const step = ev.shiftKey ? 10 : 1;  // image pixels
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[ev.key]) {
      ev.preventDefault();
      state.crop.x += moves[ev.key][0];
      state.crop.y += moves[ev.key][1];
      update();
    } else if (ev.key === '+' || ev.key === '=' || ev.key === '-' || ev.key === '_') {
      ev.preventDefault();
      const current = maxCropW() / state.crop.w;
      zoomTo(current * (ev.key === '-' || ev.key === '_' ? 1 / 1.05 : 1.05));
    }
  });

  // --- choosing a file: the button, a click on the empty canvas, or drag and drop ---------------
  input.addEventListener('change', () => {
    choose(input.files && input.files[0] ? input.files[0] : null);
  });
  canvas.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  canvas.addEventListener('drop', (ev) => {
    ev.preventDefault();
    const file = ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (file) choose(file);
  });

  // --- download ---------------------------------------------------------------------------
  /** Writes the dpi into the JFIF header the browser's encoder emits (it says 1:1, no unit). */
  function withDpi(bytes) {
    const jfif = [0x4a, 0x46, 0x49, 0x46, 0x00];
    if (bytes.length > 18 && bytes[2] === 0xff && bytes[3] === 0xe0 && jfif.every((b, i) => bytes[6 + i] === b)) {
      bytes[13] = 1;                                   // units: dots per inch
      bytes[14] = SPEC.dpi >> 8;
      bytes[15] = SPEC.dpi & 0xff;
      bytes[16] = SPEC.dpi >> 8;
      bytes[17] = SPEC.dpi & 0xff;
    }
    return bytes;
  }

  download.addEventListener('click', () => {
    if (!allPassed()) return;
    drawPreview();
    preview.toBlob(async (blob) => {
      if (!blob) {
        say('照片生成失败，请重试。', false);
        return;
      }
      const bytes = withDpi(new Uint8Array(await blob.arrayBuffer()));
      const url = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = FILE_NAME;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }, 'image/jpeg', 0.9);
  });

  // --- for the tests ------------------------------------------------------------------------
  window.photoTool = {
    result() {
      const ready = state.status === 'ready';
      return {
        width: ready ? preview.width : 0,
        height: ready ? preview.height : 0,
        passed: allPassed(),
        status: state.status,
        crop: ready ? cropBox() : null,        // in the photo's pixels
        checks: CHECKS.map((key) => ({ key, passed: !!(state.checks[key] && state.checks[key].passed === true) })),
      };
    },
    /** The crop frame in CSS pixels of the viewport (for driving it with the mouse or a finger). */
    frame() {
      if (state.status !== 'ready') return null;
      const r = cropRectOnCanvas();
      const rect = canvas.getBoundingClientRect();
      const k = rect.width / canvas.width;
      return { left: rect.left + r.x * k, top: rect.top + r.y * k, right: rect.left + (r.x + r.w) * k,
        bottom: rect.top + (r.y + r.h) * k };
    },
  };

  resetChecks();
  if (window.ResizeObserver) new ResizeObserver(fitCanvas).observe(canvas);
  else window.addEventListener('resize', fitCanvas);
  fitCanvas();
  render();
})();
