// drop.js: files dropped on an element with data-drop go into the file
// input inside it, as if the user had chosen them there; the livesse
// client then lists them (docs/uploads.md, Drag and drop). This is the
// page's own script, in a file (a strict CSP allows it), not the client's.
document.addEventListener('dragover', (e) => e.target.closest?.('[data-drop]') && e.preventDefault());
document.addEventListener('drop', (e) => {
  const input = e.target.closest?.('[data-drop]')?.querySelector('input[type=file]');
  if (!input) return;
  e.preventDefault();
  input.files = e.dataTransfer.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
});
