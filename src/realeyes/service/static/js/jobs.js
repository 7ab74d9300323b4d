// Jobs: videos, several files or a .zip go to /v1/jobs; the page polls the job until it reaches a final state.

import { getJSON, postForm, request } from './api.js';
import { $, announce, el, labelBadge, percent } from './dom.js';

const POLL_MS = 1000;
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const STATUS_TEXT = {
  queued: 'Queued', running: 'Running', succeeded: 'Finished', failed: 'Failed', cancelled: 'Cancelled',
};

let timer = null;
let currentId = null;

export async function createJob(files) {
  const form = new FormData();
  for (const file of files) form.append('files', file, file.name);
  const { data } = await postForm('/v1/jobs', form);
  return data;
}

function renderResults(job) {
  const items = job.result?.items || [];
  const table = $('job-results');
  table.hidden = !items.length;
  table.tBodies[0].replaceChildren(...items.map((item) => el('tr', {},
    el('th', { scope: 'row' }, item.name),
    item.error
      ? el('td', { colspan: '2', class: 'inline-error' }, `${item.error.message} (${item.error.code})`)
      : [el('td', {}, labelBadge(item.label)), el('td', { class: 'num' }, percent(item.p_fake))],
    el('td', {}, item.analysis_id
      ? el('a', { href: `#/analyses/${encodeURIComponent(item.analysis_id)}`, class: 'button small secondary',
        'aria-label': `Open the report for ${item.name}` }, 'Open report')
      : ''))));
}

function renderJob(job) {
  const { done, total } = job.progress;
  const status = STATUS_TEXT[job.status] || job.status;
  $('job').dataset.status = job.status;
  const failed = (job.result?.items || []).filter((item) => item.error).length;
  $('job-status').textContent = job.kind === 'video' && total === 1
    ? `${status} — ${Math.round((job.progress.fraction ?? 0) * 100)}% of the video analysed`
    : `${status} — ${done} of ${total} ${total === 1 ? 'file' : 'files'} processed`
      + (failed ? ` (${failed} could not be analysed)` : '');
  // fraction includes the item in progress (a video's sampled frames), so long single-file jobs move too.
  $('job-progress').max = 1;
  $('job-progress').value = job.progress.fraction ?? done / Math.max(total, 1);
  $('job-cancel').hidden = FINAL.has(job.status);
  $('job-error').hidden = !job.error;
  $('job-error').textContent = job.error || '';
  renderResults(job);
}

export function stopJobPolling() {
  clearTimeout(timer);
  timer = null;
  currentId = null;
}

/** Show a job and poll it until it is final. */
export async function showJob(id, showError) {
  stopJobPolling();
  currentId = id;
  $('job').hidden = false;
  $('job-results').hidden = true;
  $('job-status').textContent = 'Loading job…';
  const poll = async () => {
    try {
      const job = await getJSON(`/v1/jobs/${encodeURIComponent(id)}`);
      if (currentId !== id) return; // the user navigated away while the request was in flight
      renderJob(job);
      if (FINAL.has(job.status)) {
        announce(`Job ${STATUS_TEXT[job.status].toLowerCase()}: ${job.progress.done} of ${job.progress.total} files processed.`);
        currentId = null;
        return;
      }
      timer = setTimeout(poll, POLL_MS);
    } catch (error) {
      showError(error);
    }
  };
  await poll();
}

export function initJobs(showError) {
  $('job-cancel').addEventListener('click', async () => {
    const id = currentId;
    if (!id) return;
    $('job-cancel').disabled = true;
    try {
      await request(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
      announce('Cancelling the job…');
    } catch (error) {
      // The job may have ended between the last poll and the click: that is not a failure worth a banner.
      if (error.code === 'job_finished') announce('The job had already finished.');
      else showError(error);
    } finally {
      $('job-cancel').disabled = false;
    }
  });
}
