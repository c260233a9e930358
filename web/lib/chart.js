// A small line-and-area chart of one series over a time window, drawn as SVG by hand (a chart
// library would be most of the console's weight for two lines).
//
// The plot stretches to its box (preserveAspectRatio="none", sized by style.css), so text drawn
// inside it would stretch too: the axis labels are HTML beside it instead, readable at any
// width, and the strokes keep their width (vector-effect in style.css). The labels are hidden
// from screen readers, which read the SVG's own label: the series' name and its latest value.
import { html } from "./html.js";

// The plot's coordinate system; only its proportions matter, the box sets the real size.
const width = 600;
const height = 120;

// The smallest 1, 2 or 5 × 10^k not below `n`: the top of the axis, a round number with the
// highest point at or under it. 1 when the series is all zeros, so a flat line sits at 0.
export function niceCeiling(n) {
  if (!(n > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) {
    // The product can land a hair above the exact value (0.1 * 3); compare with some slack.
    if (m * step >= n * (1 - 1e-9)) return m * step;
  }
  return 10 * step;
}

// "x,y x,y ..." of `values` spread evenly from left to right, 0 at the bottom, `top` at the top.
function points(values, top) {
  const last = values.length - 1;
  return values.map((v, i) => {
    const x = (i / last) * width;
    const y = height - (Math.max(0, v) / top) * height;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
}

// `label` names the series ("Backlog (files)"); `values` are its points, oldest first, evenly
// spaced from `from` to `to` (the x axis' words, "60 min ago" and "now"), which `span` says in
// the accessible summary ("last 60 minutes"); `format` writes a value. No value (or one) still
// draws.
export function LineChart({ label, values, format = String, from, to, span }) {
  // A line needs two points: no value is a flat zero, one is flat at it.
  const series = values.length >= 2 ? values : [values[0] || 0, values[0] || 0];
  const latest = values.length ? values[values.length - 1] : 0;
  const top = niceCeiling(Math.max(...series));
  const line = points(series, top);
  const area = `M0,${height} L${line.join(" L")} L${width},${height} Z`;
  const summary =
    `${label}: ${format(latest)} now, at most ${format(Math.max(...series))} ` +
    `in the ${span}`;
  return html`<figure class="chart">
    <figcaption>
      <span class="chart-name">${label}</span>
      <span class="chart-latest">${format(latest)}</span>
    </figcaption>
    <div class="chart-body">
      <div class="chart-y" aria-hidden="true">
        <span>${format(top)}</span><span>${format(0)}</span>
      </div>
      <svg class="chart-plot" role="img" aria-label=${summary}
        viewBox="0 0 ${width} ${height}" preserveAspectRatio="none">
        <title>${summary}</title>
        <line class="chart-grid" x1="0" y1="0" x2=${width} y2="0" />
        <line class="chart-axis" x1="0" y1=${height} x2=${width} y2=${height} />
        <path class="chart-area" d=${area} />
        <polyline class="chart-line" points=${line.join(" ")} />
      </svg>
      <div class="chart-x" aria-hidden="true"><span>${from}</span><span>${to}</span></div>
    </div>
  </figure>`;
}
