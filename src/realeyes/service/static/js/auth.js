// The API key dialog: a native modal <dialog> (focus trap, Escape and focus return come from the browser).

import { forgetKey, getKey, setKeyPrompt } from './api.js';
import { $, announce } from './dom.js';

function askForKey(reason) {
  const dialog = $('key-dialog');
  const input = $('key-input');
  const error = $('key-dialog-error');
  error.textContent = reason || '';
  error.hidden = !reason;
  input.value = '';
  updateKeyStatus();
  return new Promise((resolve) => {
    const finish = (key) => {
      dialog.removeEventListener('close', onClose);
      $('key-form').removeEventListener('submit', onSubmit);
      $('key-cancel').removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      updateKeyStatus(key);
      resolve(key);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) finish(key);
    };
    const onCancel = () => finish(null);
    const onClose = () => finish(null); // Escape closes a modal dialog: treat it as cancel
    $('key-form').addEventListener('submit', onSubmit);
    $('key-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    input.focus();
  });
}

function updateKeyStatus(key = getKey()) {
  $('key-status').hidden = !key;
}

export function initAuth() {
  setKeyPrompt(askForKey);
  updateKeyStatus();
  $('forget-key').addEventListener('click', () => {
    forgetKey();
    updateKeyStatus(null);
    announce('The API key was forgotten. You will be asked for it again when the server needs it.');
  });
}
