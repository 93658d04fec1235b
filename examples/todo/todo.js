// The todo page's own script: a hook (data-lt-hook="focus") that puts the
// caret at the end of the edit field when the field appears, as a click on
// Edit would lead the user to expect. Without it the page works the same,
// the user clicks into the field.
if (window.livesse) {
  window.livesse.hook('focus', {
    mounted() {
      const el = this.el;
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    },
  });
}
