// The video timeline: face-forgery and whole-frame scores over time as an SVG chart (with a table for screen
// readers and keyboard users), and the most suspicious frames as thumbnails.

import { loadImage, releaseScope } from './api.js';
import { $, el, show } from './dom.js';

const SCOPE = 'timeline';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 180;
const PAD = { left: 36, right: 8, top: 10, bottom: 24 };

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function points(samples) {
  // Per sample: the most suspicious face (null when no face was scored) and the whole-frame score.
  return samples.map((entry) => {
    const faces = entry.faces.map((face) => face.score).filter((score) => score !== null);
    return { time: entry.time, face: faces.length ? Math.max(...faces) : null, frame: entry.frame_score };
  });
}

function chart(samples, duration, threshold) {
  const x = (t) => PAD.left + (t / Math.max(duration, 1e-6)) * (WIDTH - PAD.left - PAD.right);
  const y = (p) => PAD.top + (1 - p) * (HEIGHT - PAD.top - PAD.bottom);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'timeline-chart', role: 'img' });
  for (const p of [0, 0.5, 1]) {
    root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(p), y2: y(p), class: 'grid' }));
    const label = svg('text', { x: PAD.left - 6, y: y(p) + 4, class: 'axis', 'text-anchor': 'end' });
    label.textContent = `${p * 100}%`;
    root.append(label);
  }
  if (threshold != null) {
    root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(threshold), y2: y(threshold), class: 'threshold' }));
  }
  const end = svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, class: 'axis', 'text-anchor': 'end' });
  end.textContent = `${duration.toFixed(1)} s`;
  root.append(end);
  for (const [key, cls] of [['frame', 'series-frame'], ['face', 'series-face']]) {
    const drawn = samples.filter((s) => s[key] !== null);
    if (!drawn.length) continue;
    root.append(svg('polyline', { points: drawn.map((s) => `${x(s.time)},${y(s[key])}`).join(' '), class: cls }));
    for (const s of drawn) root.append(svg('circle', { cx: x(s.time), cy: y(s[key]), r: 2.5, class: cls }));
  }
  return root;
}

function percentOrDash(value) {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`;
}

function keyFrame(frame) {
  const caption = `${frame.time.toFixed(1)} s · ${percentOrDash(frame.score)}`;
  const img = el('img', { alt: `Frame at ${frame.time} s, score ${percentOrDash(frame.score)}` });
  // Results stored before key frames were files carry them inline as data: URLs.
  if (frame.url.startsWith('data:')) img.src = frame.url;
  else loadImage(img, frame.url, SCOPE).catch(() => { img.replaceWith(el('p', { class: 'inline-error' }, 'This frame could not be loaded.')); });
  return el('figure', {}, img, el('figcaption', { class: 'small' }, caption));
}

export function renderTimeline(analysis) {
  releaseScope(SCOPE);
  const section = $('timeline');
  const timeline = analysis.timeline;
  show(section, Boolean(timeline?.samples?.length));
  if (!timeline?.samples?.length) return;
  const meta = timeline.meta;
  const samples = points(timeline.samples);
  const duration = meta.duration_s || samples[samples.length - 1].time || 1;
  const facesScored = samples.some((s) => s.face !== null);
  const graphic = chart(samples, duration, analysis.threshold);
  graphic.setAttribute('aria-label', `Scores over ${duration.toFixed(1)} seconds: ${samples.length} sampled frames; `
    + (facesScored ? 'red: most suspicious face; ' : 'no face was scored; ') + 'blue: whole-frame classifier.');
  $('timeline-chart').replaceChildren(graphic);
  $('timeline-meta').textContent = [
    `${meta.sampled_frames} frames sampled at ${meta.sampling_fps} per second (every ${meta.sampling_step_frames ?? '?'} of ${meta.total_frames ?? '?'} frames at ${meta.source_fps ?? '?'} fps)`,
    `faces in ${meta.frames_with_faces} (${Math.round(meta.face_detect_rate * 100)}%)`,
    meta.complete ? null : `decoding stopped at ${meta.analysed_until_s} s`,
  ].filter(Boolean).join(' · ');
  $('timeline-frames').replaceChildren(...timeline.key_frames.map(keyFrame));
  const rows = samples.map((s) => el('tr', {}, el('td', {}, `${s.time.toFixed(2)} s`), el('td', {}, percentOrDash(s.face)),
    el('td', {}, percentOrDash(s.frame))));
  $('timeline-table-body').replaceChildren(...rows);
}
