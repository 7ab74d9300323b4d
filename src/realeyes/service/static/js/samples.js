// "Try a sample": fetch one of the server's sample images (GET /sample/{kind}) and hand it to the same path as a
// file the user chose, so it is uploaded, analysed and stored like any other.

import { request } from './api.js';
import { $ } from './dom.js';

/** The sample as a File named as the server names it (Content-Disposition), so the report shows that name. */
async function fetchSample(kind) {
  const response = await request(`/sample/${encodeURIComponent(kind)}`);
  const blob = await response.blob();
  const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return new File([blob], named ? named[1] : `sample-${kind}`, { type: blob.type });
}

export function initSamples(onFiles, showError) {
  const busy = () => $('dropzone').getAttribute('aria-disabled') === 'true'; // one upload at a time
  for (const button of document.querySelectorAll('[data-sample]')) {
    button.addEventListener('click', async () => {
      if (busy() || button.disabled) return;
      button.disabled = true;
      try {
        onFiles([await fetchSample(button.dataset.sample)]);
      } catch (error) {
        showError(error);
      } finally {
        button.disabled = false;
      }
    });
  }
}
