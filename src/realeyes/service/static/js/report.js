// The report of one analysis: image with the localization mask overlay, forensic map tabs, verdict, provenance,
// evidence. Images are fetched through the API (auth) and displayed from blob: URLs.

import { loadImage, releaseScope, request } from './api.js';
import { $, el, formatBytes, formatDate, formatMs, show } from './dom.js';
import { renderEvidenceTable, renderProvenance } from './provenance.js';
import { renderTabs } from './tabs.js';
import { renderTimeline } from './timeline.js';
import { renderVerdict } from './verdict.js';

const SCOPE = 'report';
const DISPLAYABLE = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);
const MAP_INFO = {
  spectrum: ['Spectrum', 'Log-magnitude Fourier spectrum (centre = low frequencies). Regular bright dots away from '
    + 'the centre can reveal the up-sampling of an image generator.'],
  ela: ['ELA', 'Error level analysis: how much each region changes when re-saved as JPEG. Regions edited after '
    + 'the last save can stand out as brighter.'],
  noise: ['Noise', 'High-pass noise residual. Pasted or generated regions often have a different noise texture '
    + 'from the rest of the picture.'],
  mask: ['Mask', 'The localizer’s per-pixel probability of manipulation (white = likely manipulated); the same map '
    + 'is drawn in red over the image above.'],
};

let engineInfo = { hasLocalizer: false };

export function setEngineInfo(info) {
  engineInfo = info;
}

function describeMedia(analysis) {
  const media = analysis.media || {};
  return [
    `Analysed ${formatDate(analysis.created_at)}`,
    [media.format, media.width && `${media.width}×${media.height}`].filter(Boolean).join(' '),
    formatBytes(analysis.bytes ?? media.bytes),
    `took ${formatMs(analysis.elapsed_ms)}`,
    analysis.cached ? 'identical file analysed before: stored result shown' : null,
  ].filter(Boolean).join(' · ');
}

async function renderImage(analysis) {
  const img = $('report-image');
  img.alt = `The analysed image, ${analysis.filename || 'untitled'}`;
  const mime = analysis.media?.mime;
  const url = DISPLAYABLE.has(mime) ? analysis.image_url : analysis.thumbnail_url;
  try {
    await loadImage(img, url, SCOPE);
  } catch {
    // The browser may still fail to decode an odd file: the server's JPEG thumbnail always works.
    if (url !== analysis.thumbnail_url) await loadImage(img, analysis.thumbnail_url, SCOPE);
  }
}

/** Colour the greyscale mask red with alpha = mask value, so unsuspicious pixels stay fully transparent. */
async function renderMask(analysis) {
  const canvas = $('mask-canvas');
  const controls = $('mask-controls');
  const caption = $('mask-caption');
  canvas.hidden = true;
  controls.hidden = true;
  if (!analysis.maps?.mask) {
    caption.textContent = engineInfo.hasLocalizer
      ? 'The localizer produced no manipulation mask for this file.'
      : 'No localizer model is loaded, so no manipulation mask is shown.';
    return;
  }
  const bitmap = await createImageBitmap(await (await request(analysis.maps.mask)).blob());
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const data = pixels.data;
  for (let i = 0; i < data.length; i += 4) {
    const value = data[i];
    data[i] = 230; data[i + 1] = 30; data[i + 2] = 40; data[i + 3] = value;
  }
  context.putImageData(pixels, 0, 0);
  canvas.hidden = false;
  controls.hidden = false;
  canvas.dataset.ready = 'true';
  caption.textContent = 'Red shows where the localizer thinks the image was manipulated (stronger red = more likely). '
    + maskConfidence(analysis.evidence.find((e) => e.analyzer === 'localizer'));
}

/** How far to trust the mask: the localizer's image score against the threshold its "manipulated" vote needs. */
function maskConfidence(localizer) {
  if (localizer?.score == null || localizer.details?.threshold == null) return '';
  const score = Math.round(localizer.score * 100);
  const threshold = Math.round(localizer.details.threshold * 100);
  return localizer.score >= localizer.details.threshold
    ? `Confidence that something was edited: ${score}% (at least ${threshold}% is needed to say so).`
    : `Confidence that something was edited: ${score}%, under the ${threshold}% it needs to say so: `
      + 'treat the red as a hint, not evidence.';
}

function initMaskSlider() {
  const slider = $('mask-opacity');
  const update = () => {
    $('mask-canvas').style.opacity = String(slider.value / 100);
    $('mask-opacity-value').textContent = `${slider.value}%`;
    slider.setAttribute('aria-valuetext', `${slider.value} percent`);
  };
  slider.addEventListener('input', update);
  update();
}

function renderMaps(analysis) {
  const maps = analysis.maps || {};
  // Every map gets a tab (known ones first, in a fixed order); the mask is also drawn over the image, but its
  // greyscale tab does not depend on seeing red.
  const order = Object.keys(MAP_INFO);
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  const names = Object.keys(maps).sort((a, b) => rank(a) - rank(b));
  const container = $('maps-tabs');
  if (!names.length) {
    container.replaceChildren(el('p', { class: 'muted' }, 'No forensic maps were produced for this file.'));
    return;
  }
  const tabs = names.map((name) => {
    const [title, description] = MAP_INFO[name] || [name, `The ${name} map.`];
    // Spatial maps are stretched to the image's width so they line up with it; the spectrum is its own picture.
    const kind = name === 'spectrum' ? 'map-image spectrum' : 'map-image spatial';
    const img = el('img', { alt: `${title} map of the image: ${description}`, 'data-map': name, class: kind });
    loadImage(img, maps[name], SCOPE).catch(() => {
      img.replaceWith(el('p', { class: 'inline-error' }, `The ${title} map could not be loaded.`));
    });
    return { id: `map-${name}`, label: title, content: el('figure', {}, img, el('figcaption', { class: 'muted small' }, description)) };
  });
  renderTabs(container, tabs, 'Forensic maps');
}

export async function renderReport(analysis) {
  releaseScope(SCOPE);
  $('report-heading').textContent = analysis.filename || 'Untitled image';
  $('report-meta').textContent = describeMedia(analysis);
  $('report').dataset.analysisId = analysis.id;
  renderVerdict(analysis);
  renderProvenance(analysis);
  renderEvidenceTable(analysis);
  renderTimeline(analysis);
  // A video has no single picture: its timeline and frames replace the image viewer and the forensic maps.
  const isVideo = analysis.media?.kind === 'video';
  show(document.querySelector('#report .viewer'), !isVideo);
  show(document.querySelector('#report .maps'), !isVideo);
  $('report').hidden = false;
  if (isVideo) return;
  renderMaps(analysis);
  // The verdict is useful before the pixels arrive: load images last, in parallel.
  await Promise.all([renderImage(analysis), renderMask(analysis)]);
}

export function initReport() {
  initMaskSlider();
}
