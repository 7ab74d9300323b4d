// Small DOM and formatting helpers shared by the views. No framework: the UI is small enough to stay readable.

export const $ = (id) => document.getElementById(id);

/** Create an element: el('a', {href: '#', class: 'x'}, 'text', otherNode). Strings become text nodes (never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** An inline SVG icon from one path; decorative, so hidden from assistive technology. */
export function icon(pathData, className = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', pathData);
  svg.append(path);
  return svg;
}

// Each verdict has its own colour (CSS class), word and icon, so it never relies on colour alone.
export const LABELS = {
  authentic: { text: 'Authentic', icon: 'M20 6 9 17l-5-5' },
  'ai-generated': {
    text: 'AI-generated',
    icon: 'M12 3l1.8 4.6L18.5 9l-4.7 1.8L12 15.5l-1.8-4.7L5.5 9l4.7-1.4zM18 15l.9 2.1L21 18l-2.1.9L18 21l-.9-2.1L15 18l2.1-.9z',
  },
  manipulated: { text: 'Manipulated', icon: 'M12 3 2 20h20L12 3zm0 6v5m0 3v.5' },
  inconclusive: { text: 'Inconclusive', icon: 'M9.1 9a3 3 0 0 1 5.8 1c0 2-3 2.5-3 4.5m.1 3v.5' },
};

/** A compact verdict badge: icon + word, coloured by label. */
export function labelBadge(label) {
  const meta = LABELS[label] || { text: label || 'unknown', icon: LABELS.inconclusive.icon };
  return el('span', { class: `badge label-${label || 'none'}`, 'data-label': label || '' }, icon(meta.icon), meta.text);
}

export const percent = (p) => (p === null || p === undefined ? '—' : `${Math.round(p * 100)}%`);
export const fixed = (x, digits = 2) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

export function formatDate(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Politely announce a short message to screen readers (the region is atomic, so re-set it to re-announce). */
export function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  // A tick later so that identical consecutive messages are still read out.
  setTimeout(() => { region.textContent = message; }, 50);
}

export function show(node, visible = true) {
  node.hidden = !visible;
}
