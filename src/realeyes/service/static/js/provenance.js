// Provenance panel (C2PA, metadata, watermark) and the table of all evidence.

import { $, el, fixed, formatDate, icon } from './dom.js';

// IPTC digital source type terms, in words a fact-checker can use.
const SOURCE_TYPES = {
  trainedAlgorithmicMedia: 'created by a generative AI model',
  algorithmicMedia: 'created purely by an algorithm',
  compositeWithTrainedAlgorithmicMedia: 'a composite that includes AI-generated elements',
  compositeSynthetic: 'a composite that includes synthetic elements',
  digitalCapture: 'captured by a digital camera',
  computationalCapture: 'captured with computational processing',
  negativeFilm: 'scanned from negative film',
  positiveFilm: 'scanned from positive film',
  print: 'scanned from a print',
  minorHumanEdits: 'a capture with minor human edits',
  humanEdits: 'edited by a person',
  algorithmicallyEnhanced: 'enhanced by an algorithm',
  compositeCapture: 'a composite of several captures',
  composite: 'a composite of several elements',
  digitalArt: 'digital art made by a person',
  digitalCreation: 'created digitally by a person',
  screenCapture: 'a screen capture',
};

function sourceType(value) {
  if (!value) return null;
  const term = String(value).replace(/\/$/, '').split('/').pop();
  return SOURCE_TYPES[term] ? `${SOURCE_TYPES[term]} (${term})` : term;
}

/** A <dl> of the rows whose value is present. */
function facts(rows) {
  const list = el('dl', { class: 'kv' });
  for (const [key, value] of rows) {
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) continue;
    list.append(el('dt', {}, key), el('dd', {}, value));
  }
  return list.children.length ? list : null;
}

const VALIDATION = {
  valid: ['ok', 'M20 6 9 17l-5-5', 'Valid signature'],
  invalid: ['bad', 'M6 6l12 12M18 6 6 18', 'Invalid: the file or its credentials were altered after signing'],
  unverified: ['warn', 'M12 8v5m0 3v.5', 'Not verified (remote credentials were not fetched)'],
};

function c2paSection(evidence) {
  const section = el('section', { class: 'prov-section' }, el('h4', {}, 'Content credentials (C2PA)'));
  const details = evidence?.details || {};
  if (!evidence) {
    section.append(el('p', { class: 'muted' }, 'Content credentials were not checked for this file.'));
    return section;
  }
  if (!details.manifest_present || details.validation === 'absent') {
    section.append(el('p', { class: 'no-credentials', 'data-testid': 'no-credentials' },
      icon('M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM5.6 5.6l12.8 12.8'),
      el('span', {}, el('strong', {}, 'No content credentials. '),
        'Most images carry none, so their absence is not evidence either way.')));
    return section;
  }
  const [tone, path, text] = VALIDATION[details.validation] || ['warn', 'M12 8v5m0 3v.5', details.validation];
  section.append(el('p', { class: `validation ${tone}` }, icon(path), text));
  section.append(facts([
    ['Signer', details.signer && `${details.signer}${details.trusted ? ' (trusted)' : ' (not on the trust list)'}`],
    ['Issuer', details.issuer],
    ['Signed', details.signing_time && formatDate(details.signing_time)],
    ['Made with', details.claim_generator],
    ['Declared source', sourceType(details.digital_source_type)],
    ['Actions', (details.actions || []).map((a) => a.replace(/^c2pa\./, '')).join(', ')],
    ['Validation codes', details.validation !== 'valid' ? (details.validation_codes || []).join(', ') : null],
  ]) || '');
  return section;
}

function metadataSection(evidence) {
  const section = el('section', { class: 'prov-section' }, el('h4', {}, 'Metadata'));
  const details = evidence?.details;
  if (!details) {
    section.append(el('p', { class: 'muted' }, 'Metadata was not examined for this file.'));
    return section;
  }
  const camera = details.camera || {};
  // EXIF models often repeat the make ("Canon" + "Canon EOS R5"): show it once.
  const model = String(camera.Model || '');
  const cameraText = camera.Make && !model.toLowerCase().startsWith(String(camera.Make).toLowerCase())
    ? `${camera.Make} ${model}`.trim() : model || camera.Make;
  const settings = [
    camera.ExposureTime && `${camera.ExposureTime} s`, camera.FNumber && `f/${camera.FNumber}`,
    camera.ISOSpeedRatings && `ISO ${camera.ISOSpeedRatings}`,
  ].filter(Boolean).join(' · ');
  const markers = (details.generator_markers || []).map((m) =>
    el('li', {}, el('strong', {}, m.generator), ` in ${m.field}`, m.excerpt ? el('code', {}, m.excerpt) : ''));
  const list = facts([
    ['Camera', cameraText],
    ['Lens', camera.LensModel],
    ['Settings', settings],
    ['Taken', camera.DateTimeOriginal],
    ['Software', details.software],
    ['Declared source (XMP)', sourceType(details.xmp_digital_source_type)],
    ['Generator markers', markers.length ? el('ul', { class: 'markers' }, markers) : null],
  ]);
  section.append(list || el('p', { class: 'muted' }, 'No camera, software or generator metadata.'));
  return section;
}

function watermarkSection(evidence) {
  return el('section', { class: 'prov-section' }, el('h4', {}, 'Invisible watermark'),
    el('p', { class: evidence ? '' : 'muted' }, evidence ? evidence.summary : 'Not checked for this file.'));
}

export function renderProvenance(analysis) {
  const byName = Object.fromEntries(analysis.evidence.map((e) => [e.analyzer, e]));
  $('provenance').replaceChildren(
    c2paSection(byName.c2pa), metadataSection(byName.metadata), watermarkSection(byName.watermark));
}

export function renderEvidenceTable(analysis) {
  // Most influential first: decisive provenance, then by weight.
  const rows = [...analysis.evidence].sort((a, b) => (b.decisive - a.decisive) || (b.weight - a.weight));
  $('evidence-table').tBodies[0].replaceChildren(...rows.map((e) => el('tr', { 'data-analyzer': e.analyzer },
    el('th', { scope: 'row' }, e.analyzer, el('span', { class: 'version' }, ` v${e.version}`),
      e.decisive ? el('span', { class: 'tag' }, 'decisive') : ''),
    el('td', {}, e.summary, e.error ? el('p', { class: 'inline-error' }, `Failed: ${e.error.message}`) : ''),
    el('td', { class: 'num' }, e.score === null ? el('span', { title: 'no opinion' }, '—') : scoreCell(e.score)),
    el('td', { class: 'num' }, fixed(e.weight)))));
}

function scoreCell(score) {
  return el('span', { class: 'score' }, el('span', { class: 'score-bar', style: `--score:${score}` }), fixed(score));
}
