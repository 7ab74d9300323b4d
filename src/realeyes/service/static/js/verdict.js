// The verdict card: label, probability gauge, reasons, notes, versions, and the "verdict is wrong" feedback form.

import { postJSON } from './api.js';
import { $, LABELS, el, formatDate, icon, percent } from './dom.js';

let current = null; // the analysis the feedback form refers to

export function renderVerdict(analysis) {
  current = analysis;
  const meta = LABELS[analysis.label] || { text: analysis.label, icon: LABELS.inconclusive.icon };
  const label = $('verdict-label');
  label.className = `verdict-label label-${analysis.label}`;
  label.dataset.label = analysis.label;
  label.replaceChildren(icon(meta.icon, 'icon big'),
    el('span', {}, el('span', { class: 'verdict-kicker' }, 'Verdict'), el('span', { class: 'verdict-word' }, meta.text)));

  const p = analysis.p_fake;
  const threshold = analysis.threshold;
  $('gauge').className = `gauge label-${analysis.label}`;
  $('gauge-value').textContent = percent(p);
  $('gauge-fill').style.width = `${(p ?? 0) * 100}%`;
  $('gauge-threshold').style.left = `${threshold * 100}%`;
  $('gauge-threshold-label').textContent = `threshold ${percent(threshold)}`;
  const meter = $('gauge-meter');
  meter.setAttribute('aria-valuenow', String(Math.round((p ?? 0) * 100)));
  meter.setAttribute('aria-valuetext', `${percent(p)}; the threshold for "not authentic" is ${percent(threshold)}`);

  $('reasons').replaceChildren(...(analysis.reasons.length ? analysis.reasons : ['No reasons were given.'])
    .map((r) => el('li', {}, r)));
  $('notes').replaceChildren(...(analysis.notes || []).map((n) => el('li', {}, icon('M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 8v5m0-8.5v.5'), n)));
  $('versions').replaceChildren(...Object.entries(analysis.versions || {})
    .flatMap(([name, version]) => [el('dt', {}, name), el('dd', {}, version)]));
  resetFeedback(analysis);
}

function resetFeedback(analysis) {
  $('feedback-form').hidden = true;
  $('feedback-form').reset();
  $('feedback-toggle').hidden = false;
  $('feedback-toggle').setAttribute('aria-expanded', 'false');
  $('feedback-done').hidden = true;
  renderFeedbackList(analysis.feedback || []);
}

function renderFeedbackList(items) {
  $('feedback-list').replaceChildren(...items.map((f) => el('li', {},
    `Reported as ${LABELS[f.label]?.text || f.label} on ${formatDate(f.created_at)}`, f.note ? `: “${f.note}”` : '')));
}

export function initFeedback(showError) {
  const form = $('feedback-form');
  const toggle = $('feedback-toggle');
  toggle.addEventListener('click', () => {
    form.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    $('feedback-done').hidden = true;
    $('feedback-label').focus();
  });
  $('feedback-cancel').addEventListener('click', () => {
    form.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type=submit]');
    const body = { label: $('feedback-label').value };
    const note = $('feedback-note').value.trim();
    if (note) body.note = note;
    submit.disabled = true;
    try {
      const saved = await postJSON(`/v1/analyses/${encodeURIComponent(current.id)}/feedback`, body);
      current.feedback = [...(current.feedback || []), saved];
      form.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      const done = $('feedback-done');
      done.textContent = `Thank you — your correction (${LABELS[saved.label]?.text || saved.label}) was recorded.`;
      done.hidden = false;
      renderFeedbackList(current.feedback);
      toggle.focus();
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });
}
