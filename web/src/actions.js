// The action side: which forms are live and what a POST carries.

export const ACTION = '_lt_action';
export const CONN = '_lt_conn';

/**
 * formAttr returns attr(name) for a submit of form by submitter (null if
 * none): the submitter's formNAME override, else the form's NAME, else null.
 */
export const formAttr = (form, submitter) => (n) => submitter?.getAttribute('form' + n) ?? form.getAttribute(n);

/**
 * liveForm tells whether submitting a form is handled live: only POST forms
 * aimed at this page (same origin and path) and at this browsing context;
 * anything else (search forms, uploads to another endpoint, target=_blank)
 * keeps its normal navigation. attr(name) returns the effective attribute
 * (the submitter's formNAME override, else the form's NAME, else null).
 * Returns null when not live, else {multipart}.
 */
export function liveForm(attr, base, page) {
  const method = (attr('method') || 'get').toLowerCase();
  const target = attr('target');
  if (method !== 'post' || (target && target !== '_self')) return null;
  const action = attr('action');
  if (action) {
    const a = new URL(action, base), p = new URL(page);
    if (a.origin !== p.origin || a.pathname !== p.pathname) return null;
  }
  return { multipart: (attr('enctype') || '').toLowerCase() === 'multipart/form-data' };
}

/**
 * formBody completes the FormData fd of a submitted form (built with its
 * submitter) with the action name and the connection id, and returns the body
 * to POST: fd itself for multipart, else URL-encoded params (where, as in a
 * native submission, a file field carries only its file name).
 */
export function formBody(fd, submitter, conn, multipart) {
  const name = submitter?.name;
  if (name) {
    // Browsers whose FormData ignores the submitter argument lose its value.
    if (!fd.has(name)) fd.append(name, submitter.value);
    // A button named _lt_action already carries the action as its value.
    if (name !== ACTION) fd.set(ACTION, name);
  }
  fd.set(CONN, conn);
  if (multipart) return fd;
  return new URLSearchParams([...fd].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]));
}

/** buttonBody returns the URL-encoded body of a click on a button outside any form. */
export function buttonBody(name, value, conn) {
  const p = new URLSearchParams(name === ACTION ? [] : [[ACTION, name]]);
  p.append(name, value);
  p.append(CONN, conn);
  return p;
}

/**
 * fieldBody returns the URL-encoded body of a field's event: the values of
 * its form (FormData fd; for a field outside any form, its own name and
 * value), the action and connection, _lt_target (the field's name) and
 * _lt_used once per name in used (the fields the user has used).
 */
export function fieldBody(fd, field, action, conn, used) {
  const p = formBody(fd, null, conn);
  if (!field.form && field.name) p.set(field.name, field.value);
  p.set(ACTION, action);
  if (field.name) p.set('_lt_target', field.name);
  for (const n of used) p.append('_lt_used', n);
  return p;
}
