// A trial: config, metrics, measurements per device, artifacts, rate–quality against the
// anchors, and the side-by-side viewer (original, reconstruction, JPEG and AVIF at its bpp).
import { api, el, flagged, fmt, kvRows, label, showError, showFootnote } from "./common.js";
import { lines } from "./charts.js";
import { SyncedViewer } from "./viewer.js";

const trialId = Number(document.body.dataset.trialId);
const $ = (id) => document.getElementById(id);
let viewer = null;
let curves = null;

function renderDetail(d) {
  const t = d.trial;
  $("trial-title").replaceChildren(`Trial ${t.number} of `, el("a", { href: `/campaigns/${t.campaign_id}`, text: d.campaign_name }));
  document.title = `trial ${t.number} · ${d.campaign_name} · codecnas`;
  $("trial-badges").replaceChildren(
    el("span", { class: `badge ${t.state}`, text: t.state }),
    t.feasible === false ? el("span", { class: "badge infeasible", text: "infeasible" }) : "",
    d.on_front ? el("span", { class: "badge front", text: "on the front" }) : "",
    Object.keys(t.extrapolated).length ? el("span", { class: "badge extrapolated", text: "ratio extrapolated", title: Object.values(t.extrapolated)[0] }) : "",
  );
  $("initialised-from").textContent = t.initialised_from ? `${t.initialised_from[0].toUpperCase()}${t.initialised_from.slice(1)}` : "";
  kvRows($("config"), [...Object.entries(t.config).map(([k, v]) => [k, JSON.stringify(v)]), ["config hash", t.config_hash.slice(0, 16)], ["worker", t.worker || "–"], ["attempts", t.attempts]]);
  const value = (k, v) => (t.extrapolated[k] ? `${flagged(fmt(v, k), t.extrapolated[k])} (${t.extrapolated[k]})` : fmt(v, k));
  kvRows($("metrics"), Object.entries(t.metrics).map(([k, v]) => [label(k), value(k, v)]));
  showFootnote("metrics-footnote", Object.keys(t.extrapolated).length > 0);
  if (t.error) $("metrics").append(el("tr", {}, el("th", { text: "error" }), el("td", { class: "error-text", text: t.error })));
  const cols = ["device", "backend", "part", "precision", "tile", "p50_ms", "p90_ms", "estimate_12mp_ms", "cold_ms", "runs"];
  $("measurements").replaceChildren(
    el("tr", {}, ...cols.map((c) => el("th", { text: c }))),
    ...d.measurements.map((m) => el("tr", {}, ...cols.map((c) => el("td", { class: typeof m[c] === "number" ? "num" : "", text: fmt(m[c], c) })))),
  );
  $("artifacts").replaceChildren(
    el("tr", {}, el("th", { text: "kind" }), el("th", { text: "file" }), el("th", { text: "size" }), el("th", { text: "sha256" })),
    ...d.artifacts.map((a) => el("tr", {}, el("td", { text: a.kind }), el("td", {}, el("a", { href: a.url, download: a.filename, text: a.filename })),
      el("td", { class: "num", text: `${(a.size / 1024).toFixed(1)} KiB` }), el("td", { class: "mono", text: a.sha256.slice(0, 16) }))),
  );
  const names = d.images.length ? d.images : Object.keys(d.per_image);
  $("image").replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  $("rq-image").append(...Object.keys(d.per_image).map((n) => el("option", { value: n, text: n })));
}

async function loadViewer() {
  const image = $("image").value;
  if (!image) { $("viewer").textContent = "no evaluation image recorded for this trial"; return; }
  const v = await api(`/api/trials/${trialId}/images/${encodeURIComponent(image)}`);
  const caption = (bpp, psnr) => `${fmt(bpp, "bpp")} bpp, ${fmt(psnr, "psnr")} dB`;
  const panels = [{ title: "original", caption: "", url: v.original_url }];
  if (v.reconstruction_url) panels.push({ title: "this trial", caption: caption(v.trial_bpp, v.trial_psnr), url: v.reconstruction_url });
  for (const a of v.anchors) panels.push({ title: `${a.codec.toUpperCase()} q${a.quality}`, caption: caption(a.bpp, a.psnr), url: a.url });
  viewer = new SyncedViewer($("viewer"), panels, { zoom: Number($("zoom").value) });
}

function drawCurves() {
  const image = $("rq-image").value;
  const source = image ? curves.images.find((c) => c.image === image) : null;
  const jpeg = source ? source.jpeg : curves.jpeg;
  const avif = source ? source.avif : curves.avif;
  const point = source ? source.trial : curves.trial;
  const series = [
    { name: "JPEG", cls: "jpeg", points: jpeg.map((p) => ({ x: p.bpp, y: p.psnr, title: `JPEG q${p.quality}: ${fmt(p.bpp)} bpp, ${fmt(p.psnr)} dB` })) },
    { name: "AVIF", cls: "avif", points: avif.map((p) => ({ x: p.bpp, y: p.psnr, title: `AVIF q${p.quality}: ${fmt(p.bpp)} bpp, ${fmt(p.psnr)} dB` })) },
  ];
  if (!source) series.push({ name: "front trials", cls: "front", markersOnly: true, points: curves.front.map((p) => ({ x: p.bpp, y: p.psnr })) });
  if (point) series.push({ name: "this trial", cls: "this", markersOnly: true, radius: 6, points: [{ x: point.bpp, y: point.psnr }] });
  lines($("rate-quality"), { series, xLabel: "bpp", yLabel: "PSNR (dB)", xLog: true, height: 260 });
}

async function start() {
  const detail = await api(`/api/trials/${trialId}`);
  renderDetail(detail);
  await loadViewer();
  document.body.dataset.ready = "1";
  curves = await api(`/api/trials/${trialId}/rate-quality`);
  drawCurves();
}

$("image").addEventListener("change", () => loadViewer().catch(showError));
$("zoom").addEventListener("change", () => viewer && viewer.setZoom(Number($("zoom").value)));
$("rq-image").addEventListener("change", () => curves && drawCurves());
start().catch(showError);
