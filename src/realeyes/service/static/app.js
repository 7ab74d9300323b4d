// RealEyes web UI entry point: wires the views together and routes on the URL hash
// (#/ upload, #/analyses/<id> a report, #/jobs/<id> a batch job, #/history the history list).

import { getJSON, postForm } from './js/api.js';
import { initAuth } from './js/auth.js';
import { $, LABELS, announce, el, percent } from './js/dom.js';
import { initHistory, loadHistory } from './js/history.js';
import { createJob, initJobs, showJob, stopJobPolling } from './js/jobs.js';
import { initReport, renderReport, setEngineInfo } from './js/report.js';
import { initSamples } from './js/samples.js';
import { initDropzone } from './js/upload.js';
import { initFeedback } from './js/verdict.js';

let lastAnalysis = null; // the upload's response, so routing to it does not fetch it again

function showError(error) {
  const box = $('error');
  const detail = [error.code && `code ${error.code}`, error.requestId && `request ${error.requestId}`]
    .filter(Boolean).join(' · ');
  box.replaceChildren(
    el('div', {},
      el('p', {}, el('strong', {}, 'Something went wrong. '), error.message || String(error)),
      detail ? el('p', { class: 'small' }, detail) : ''),
    el('button', { type: 'button', class: 'link-button', onclick: clearError }, 'Dismiss'));
  box.hidden = false;
  // Always also in the console: errors are never silent, even when the banner is dismissed.
  console.error(error);
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

function showView(name) {
  $('view-analyze').hidden = name !== 'analyze';
  $('view-history').hidden = name !== 'history';
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function setBusy(label, previewFile = null) {
  const preview = $('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.removeAttribute('src');
  preview.hidden = true;
  if (previewFile) {
    // A local preview shows the user what they sent before the server answers (HEIC etc. may not decode).
    preview.onload = () => { preview.hidden = false; };
    preview.src = URL.createObjectURL(previewFile);
  }
  $('busy-label').textContent = label || '';
  $('busy').hidden = !label;
  $('dropzone').setAttribute('aria-disabled', String(Boolean(label)));
  if (label) announce(label);
}

function goTo(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function analyseFile(file) {
  $('report').hidden = true;
  $('job').hidden = true;
  setBusy(`Uploading and analysing ${file.name}…`, file);
  const form = new FormData();
  form.append('file', file, file.name);
  try {
    const { data } = await postForm('/v1/analyses', form);
    lastAnalysis = data;
    goTo(`#/analyses/${encodeURIComponent(data.id)}`);
  } catch (error) {
    showError(error);
  } finally {
    setBusy(null);
  }
}

async function startBatch(files) {
  $('report').hidden = true;
  $('job').hidden = true;
  setBusy(files.length === 1 ? `Uploading ${files[0].name} for analysis…` : `Uploading ${files.length} files for a batch job…`);
  try {
    const job = await createJob(files);
    goTo(`#/jobs/${encodeURIComponent(job.id)}`);
  } catch (error) {
    showError(error);
  } finally {
    setBusy(null);
  }
}

function onFiles(files) {
  clearError();
  const isZip = (f) => /\.zip$/i.test(f.name) || f.type === 'application/zip';
  // Videos are long work: they always go through a job, which reports progress.
  const isVideo = (f) => f.type.startsWith('video/') || /\.(mp4|m4v|mov|webm|mkv|avi)$/i.test(f.name);
  if (files.length === 1 && !isZip(files[0]) && !isVideo(files[0])) analyseFile(files[0]);
  else startBatch(files);
}

async function showAnalysis(id) {
  $('job').hidden = true;
  let analysis = lastAnalysis && lastAnalysis.id === id ? lastAnalysis : null;
  if (!analysis) {
    $('report').hidden = true;
    setBusy('Loading the stored analysis…');
    try {
      analysis = await getJSON(`/v1/analyses/${encodeURIComponent(id)}`);
    } catch (error) {
      showError(error);
      return;
    } finally {
      setBusy(null);
    }
  }
  lastAnalysis = analysis;
  const rendering = renderReport(analysis);
  const label = LABELS[analysis.label]?.text || analysis.label;
  announce(`Verdict for ${analysis.filename}: ${label}. Probability not authentic ${percent(analysis.p_fake)}.`);
  $('report-heading').focus();
  try {
    await rendering;
  } catch (error) {
    showError(error);
  }
}

async function route() {
  const [, section, id] = location.hash.split('/');
  stopJobPolling();
  if (section === 'history') {
    showView('history');
    await loadHistory(showError);
  } else if (section === 'analyses' && id) {
    showView('analyze');
    await showAnalysis(decodeURIComponent(id));
  } else if (section === 'jobs' && id) {
    showView('analyze');
    $('report').hidden = true;
    await showJob(decodeURIComponent(id), showError);
  } else {
    showView('analyze');
    $('report').hidden = true;
    $('job').hidden = true;
  }
}

/** Ask the server what it runs; a 401 here opens the key dialog before the user has uploaded anything. */
async function loadEngineInfo() {
  try {
    const { analyzers } = await getJSON('/v1/analyzers');
    let models = [];
    try {
      ({ models } = await getJSON('/v1/models'));
    } catch (error) {
      console.warn('model list unavailable', error);
    }
    const hasLocalizer = models.some((m) => /locali[sz]/i.test(m.task) && m.promoted)
      || analyzers.some((a) => /locali[sz]/i.test(a.name) && a.available);
    setEngineInfo({ hasLocalizer });
    const available = analyzers.filter((a) => a.available).map((a) => a.name);
    $('engine-info').textContent = `Analyzers: ${available.join(', ') || 'none'}.`;
  } catch (error) {
    showError(error);
  }
}

async function main() {
  initAuth();
  initDropzone(onFiles);
  initSamples(onFiles, showError);
  initReport();
  initFeedback(showError);
  initHistory(showError);
  initJobs(showError);
  $('report-heading').tabIndex = -1; // focus target after a verdict arrives
  window.addEventListener('hashchange', () => {
    clearError();
    route();
  });
  await loadEngineInfo();
  await route();
  document.body.dataset.ready = 'true'; // lets the end-to-end test know start-up has finished
}

main();
