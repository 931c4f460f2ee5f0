/**
 * Messages beside the settings' fields: where a complaint (the page's own or the
 * API's) is shown, and cleared when the next answer comes.
 */

const $ = (id) => document.getElementById(id);

/** Show (or clear, with null) a message beside the field `name`. */
export function fieldError(name, message) {
  const el = $(`err-${name}`) || $('err-general');
  el.textContent = message || '';
  el.hidden = !message;
  const field = document.querySelector(`.field[data-field="${name}"]`);
  if (field) for (const inp of field.querySelectorAll('input, select')) inp.setAttribute('aria-invalid', message ? 'true' : 'false');
}

export function clearErrors() {
  for (const el of document.querySelectorAll('.err')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
}
