// History: past analyses, newest first, with label and date filters and prev/next paging.

import { getJSON, loadImage, releaseScope } from './api.js';
import { $, el, formatDate, labelBadge, percent } from './dom.js';

const SCOPE = 'history';
const PAGE_SIZE = 20;
const state = { offset: 0 };

/** A date input's day, as the UTC instant of local midnight (optionally the next day, for an inclusive "to"). */
function dayStart(value, plusDays = 0) {
  if (!value) return null;
  const date = new Date(`${value}T00:00:00`);
  date.setDate(date.getDate() + plusDays);
  return date.toISOString();
}

function query() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offset) });
  const label = $('filter-label').value;
  const since = dayStart($('filter-since').value);
  const until = dayStart($('filter-until').value, 1);
  if (label) params.set('label', label);
  if (since) params.set('since', since);
  if (until) params.set('until', until);
  return params;
}

function historyItem(item) {
  const name = item.filename || 'Untitled image';
  const thumb = el('img', { class: 'thumb', alt: `Thumbnail of ${name}`, width: '72', height: '72' });
  // A failed thumbnail is not worth an error banner: keep the grey placeholder and say so in the alt text.
  loadImage(thumb, item.thumbnail_url, SCOPE).catch(() => { thumb.alt = `No thumbnail for ${name}`; });
  const media = item.media || {};
  return el('li', {},
    el('a', { class: 'history-item', href: `#/analyses/${encodeURIComponent(item.id)}`, 'data-id': item.id },
      thumb,
      el('span', { class: 'history-main' },
        el('span', { class: 'history-name' }, name),
        el('span', { class: 'muted small' },
          [formatDate(item.created_at), media.format, media.width && `${media.width}×${media.height}`]
            .filter(Boolean).join(' · '))),
      labelBadge(item.label),
      el('span', { class: 'history-p', title: 'Probability not authentic' }, percent(item.p_fake),
        el('span', { class: 'sr-only' }, ' probability not authentic'))));
}

export async function loadHistory(showError) {
  const list = $('history-list');
  list.setAttribute('aria-busy', 'true');
  try {
    const page = await getJSON(`/v1/analyses?${query()}`);
    releaseScope(SCOPE);
    list.replaceChildren(...page.items.map(historyItem));
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    $('history-summary').textContent = page.total
      ? `Showing ${first}–${last} of ${page.total} ${page.total === 1 ? 'analysis' : 'analyses'}.`
      : 'No analyses match these filters.';
    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    $('history-page').textContent = `Page ${Math.floor(page.offset / PAGE_SIZE) + 1} of ${pages}`;
    $('history-prev').disabled = page.offset === 0;
    $('history-next').disabled = last >= page.total;
  } catch (error) {
    showError(error);
  } finally {
    list.removeAttribute('aria-busy');
  }
}

export function initHistory(showError) {
  $('history-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.offset = 0;
    loadHistory(showError);
  });
  $('filter-label').addEventListener('change', () => {
    state.offset = 0;
    loadHistory(showError);
  });
  $('history-prev').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    loadHistory(showError);
  });
  $('history-next').addEventListener('click', () => {
    state.offset += PAGE_SIZE;
    loadHistory(showError);
  });
}
