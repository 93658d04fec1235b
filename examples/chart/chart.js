// The chart's own script, served as a file (the page's CSP allows no
// inline script and no eval). The hook "chart" owns the <svg
// data-lt-hook="chart">, which sits inside data-lt-ignore: livesse never
// morphs it, so what this script draws stays. It starts from the samples
// the server rendered into data-samples and adds each "sample" event the
// server pushes (ctx.PushEvent in the Tick action), keeping the last KEEP.
// Samples pushed while the page had no stream yet (between its load and
// the stream's start) or while it was reconnecting are not replayed
// after a full render: on a gap the hook asks the server for what it
// missed (the "history" action, answered with a "history" event). The
// figures are main.go's: Points there draws the same line.
(function () {
  const KEEP = 60, STEP = 10, HEIGHT = 200;
  if (!window.livesse) return; // no live client: the server's drawing stays
  window.livesse.hook('chart', {
    mounted() {
      this.samples = [];
      this.asked = false;
      this.line = this.el.querySelector('polyline');
      this.add(JSON.parse(this.el.getAttribute('data-samples') || '[]'));
    },
    onEvent(name, detail) {
      if (name === 'sample') this.add([detail]);
      if (name === 'history') {
        this.asked = false;
        this.add(detail || []);
      }
    },
    // add merges samples into the line (by number, each once, in order),
    // draws it, and asks for the missing ones after a gap.
    add(more) {
      const byN = new Map(this.samples.map((s) => [s.n, s]));
      for (const s of more) byN.set(s.n, s);
      this.samples = [...byN.values()].sort((a, b) => a.n - b.n).slice(-KEEP);
      this.draw();
      const gap = this.samples.findIndex((s, i) => i > 0 && s.n !== this.samples[i - 1].n + 1);
      if (gap > 0 && !this.asked) {
        this.asked = true;
        this.action('history', { since: this.samples[gap - 1].n }).catch(() => (this.asked = false));
      }
    },
    draw() {
      const pts = this.samples.map((s, i) => i * STEP + ',' + String(HEIGHT - (s.v * HEIGHT) / 100));
      this.line.setAttribute('points', pts.join(' '));
      const last = this.samples[this.samples.length - 1];
      this.el.setAttribute('data-drawn', last ? last.n + ' ' + this.samples.length : '0 0');
    },
  });
})();
