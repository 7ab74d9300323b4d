// The drop zone: click, Enter/Space or drag-and-drop all end in onFiles(FileList-like array).

import { $ } from './dom.js';

export function initDropzone(onFiles) {
  const zone = $('dropzone');
  const input = $('file-input');

  const busy = () => zone.getAttribute('aria-disabled') === 'true'; // one upload at a time
  zone.addEventListener('click', () => { if (!busy()) input.click(); });
  zone.addEventListener('keydown', (event) => {
    // role="button" elements must react to both keys, like a native button.
    if ((event.key === 'Enter' || event.key === ' ') && !busy()) {
      event.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = ''; // so that choosing the same file again still fires "change"
    if (files.length) onFiles(files);
  });

  // dragenter/dragleave fire for every child: count them so the highlight does not flicker.
  let depth = 0;
  zone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth += 1;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove('dragging');
  });
  zone.addEventListener('dragover', (event) => event.preventDefault());
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length && !busy()) onFiles(files);
  });
  // A file dropped next to the zone would make the browser navigate away from the app: prevent it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}
