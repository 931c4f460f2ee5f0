/**
 * /stack and /digits in a frame (?embed=1), as the main page's embed: the header and
 * the controls hidden, the overview, or the open map's step view alone, filling the
 * frame; arrow keys (and Home, End) step through the open map's cells from anywhere
 * in the frame; a link opens the full page. The body's classes say which (layers.css).
 */

/**
 * @param {{embed: boolean}} state @param {import('./stepview.js').StepView} step
 * @param {() => string} fullUrl the page's address without embed
 * @param {() => Function} t the current translator
 */
export function setupEmbed(state, step, fullUrl, t) {
  if (!state.embed) return () => {};
  document.body.classList.add('embed');
  const link = document.createElement('a');
  link.className = 'embed-open';
  link.target = '_blank';
  link.rel = 'noopener';
  document.getElementById('stage').prepend(link);
  document.addEventListener('keydown', (e) => {
    if (!step.spec || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLElement && e.target.closest('input, select, textarea, button')) return;
    if (e.target === document.querySelector('.step-map')) return; // the map handles its own keys
    const W = step.shape()[2];
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -W, ArrowDown: W, Home: -step.step, End: step.count };
    if (!(e.key in moves)) return;
    e.preventDefault();
    step.go(step.step + moves[e.key]);
  });
  // Called after every redraw: the link's words and address, and which part fills the frame.
  return () => {
    link.textContent = t()('lab.embed.open');
    link.href = fullUrl();
    link.title = t()('lab.embed.keys');
    document.body.classList.toggle('step-open', Boolean(step.spec));
  };
}
