// Small SVG charts: a scatter of thousands of points and line charts, no library needed.
// Why hand-written: the dashboard must work offline, a scatter is ~200 lines, and SVG points are
// DOM elements that tests (and people with dev tools) can count and inspect.

const NS = "http://www.w3.org/2000/svg";
const MARGIN = { left: 64, right: 16, top: 12, bottom: 44 };

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit >= 5 ? 10 : unit >= 2 ? 5 : unit >= 1 ? 2 : 1) * power;
}

function linearTicks(min, max, count) {
  const step = niceStep(max - min || 1, count);
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function logTicks(min, max) {
  const ticks = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** p;
      if (t >= min && t <= max) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : linearTicks(min, max, 5);
}

function tickText(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(4));
}

function extent(values, log) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return log ? [1, 10] : [0, 1];
  if (log) {
    const pad = (Math.log10(hi) - Math.log10(lo) || 1) * 0.05;
    return [10 ** (Math.log10(lo) - pad), 10 ** (Math.log10(hi) + pad)];
  }
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.05;
  return [lo - pad, hi + pad];
}

// Axes, scales and a plotting area inside `container`; returns the helpers charts draw with.
export function frame(container, { xs, ys, xLabel, yLabel, xLog = false, yLog = false, height = 360 }) {
  const width = Math.max(320, container.clientWidth || 640);
  const [x0, x1] = extent(xs, xLog);
  const [y0, y1] = extent(ys, yLog);
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const tx = xLog ? Math.log10 : (v) => v;
  const ty = yLog ? Math.log10 : (v) => v;
  const sx = (v) => MARGIN.left + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0))) * innerW;
  const sy = (v) => MARGIN.top + innerH - ((ty(v) - ty(y0)) / (ty(y1) - ty(y0))) * innerH;
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "plot" });
  const axes = svgEl("g", { class: "axes" });
  for (const t of xLog ? logTicks(x0, x1) : linearTicks(x0, x1, 6)) {
    axes.append(svgEl("line", { x1: sx(t), x2: sx(t), y1: MARGIN.top, y2: MARGIN.top + innerH, class: "grid" }));
    const text = svgEl("text", { x: sx(t), y: MARGIN.top + innerH + 16, "text-anchor": "middle" });
    text.textContent = tickText(t);
    axes.append(text);
  }
  for (const t of yLog ? logTicks(y0, y1) : linearTicks(y0, y1, 5)) {
    axes.append(svgEl("line", { x1: MARGIN.left, x2: MARGIN.left + innerW, y1: sy(t), y2: sy(t), class: "grid" }));
    const text = svgEl("text", { x: MARGIN.left - 6, y: sy(t) + 4, "text-anchor": "end" });
    text.textContent = tickText(t);
    axes.append(text);
  }
  const xText = svgEl("text", { x: MARGIN.left + innerW / 2, y: height - 6, "text-anchor": "middle", class: "label" });
  xText.textContent = xLabel;
  const yText = svgEl("text", { x: 14, y: MARGIN.top + innerH / 2, class: "label", transform: `rotate(-90 14 ${MARGIN.top + innerH / 2})`, "text-anchor": "middle" });
  yText.textContent = yLabel;
  axes.append(xText, yText);
  svg.append(axes);
  container.replaceChildren(svg);
  return { svg, sx, sy, x0, x1, y0, y1, innerH, innerW };
}

// A scatter: `points` are {x, y, cls, key}; one <circle class="pt ..."> per point, data-i = index.
// onHover(i, event) / onLeave() / onClick(i) are called through one listener on the SVG.
export function scatter(container, { points, xLabel, yLabel, xLog, yLog, onHover, onLeave, onClick, lines = [] }) {
  const f = frame(container, { xs: points.map((p) => p.x), ys: points.map((p) => p.y), xLabel, yLabel, xLog, yLog });
  for (const line of lines) {
    const path = line.points.map((p, i) => `${i ? "L" : "M"}${f.sx(p.x).toFixed(1)},${f.sy(p.y).toFixed(1)}`).join("");
    if (path) f.svg.append(svgEl("path", { d: path, class: `line ${line.cls || ""}` }));
  }
  const layer = svgEl("g", { class: "points" });
  const fragment = document.createDocumentFragment();
  points.forEach((p, i) => {
    if ((xLog && p.x <= 0) || (yLog && p.y <= 0)) return;
    fragment.append(svgEl("circle", { cx: f.sx(p.x).toFixed(1), cy: f.sy(p.y).toFixed(1), r: p.r || 4, class: `pt ${p.cls || ""}`, "data-i": i }));
  });
  layer.append(fragment);
  f.svg.append(layer);
  const target = (event) => (event.target instanceof SVGCircleElement && event.target.dataset.i !== undefined ? Number(event.target.dataset.i) : null);
  f.svg.addEventListener("mouseover", (event) => { const i = target(event); if (i !== null && onHover) onHover(i, event); });
  f.svg.addEventListener("mouseout", (event) => { if (target(event) !== null && onLeave) onLeave(); });
  f.svg.addEventListener("click", (event) => { const i = target(event); if (i !== null && onClick) onClick(i); });
  const marker = svgEl("line", { class: "budget-line", y1: MARGIN.top, y2: MARGIN.top + f.innerH, visibility: "hidden" });
  f.svg.append(marker);
  return {
    ...f,
    layer,
    circle: (i) => layer.querySelector(`circle[data-i="${i}"]`),
    budgetLine(x) {
      if (x === null) { marker.setAttribute("visibility", "hidden"); return; }
      marker.setAttribute("x1", f.sx(x)); marker.setAttribute("x2", f.sx(x)); marker.setAttribute("visibility", "visible");
    },
  };
}

// Lines with markers: series are {name, cls, points: [{x, y, title}], markersOnly}.
export function lines(container, { series, xLabel, yLabel, xLog = false, yLog = false, height = 260 }) {
  const all = series.flatMap((s) => s.points);
  const f = frame(container, { xs: all.map((p) => p.x), ys: all.map((p) => p.y), xLabel, yLabel, xLog, yLog, height });
  const legend = svgEl("g", { class: "legend" });
  series.forEach((s, k) => {
    const g = svgEl("g", { class: `series ${s.cls || ""}` });
    if (!s.markersOnly && s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? "L" : "M"}${f.sx(p.x).toFixed(1)},${f.sy(p.y).toFixed(1)}`).join("");
      g.append(svgEl("path", { d, class: "line" }));
    }
    for (const p of s.points) {
      const c = svgEl("circle", { cx: f.sx(p.x).toFixed(1), cy: f.sy(p.y).toFixed(1), r: s.radius || 3, class: "marker" });
      const title = svgEl("title");
      title.textContent = p.title || `${s.name}: ${tickText(p.x)}, ${tickText(p.y)}`;
      c.append(title);
      g.append(c);
    }
    f.svg.append(g);
    const item = svgEl("text", { x: f.sx(f.x0) + 8, y: MARGIN.top + 14 + 14 * k, class: `legend-item ${s.cls || ""}` });
    item.textContent = `● ${s.name}`;
    legend.append(item);
  });
  f.svg.append(legend);
  return f;
}
