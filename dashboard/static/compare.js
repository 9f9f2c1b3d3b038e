// Two or more trials side by side: config, metrics, decode time per device, and their
// reconstructions of one image next to the original, with one shared crop.
import { api, el, fmt, label, metricCell, showError, showFootnote } from "./common.js";
import { SyncedViewer } from "./viewer.js";

const ids = (new URLSearchParams(location.search).get("ids") || "").split(",").map(Number).filter((n) => n > 0);
const $ = (id) => document.getElementById(id);
let trials = [];
let viewer = null;

function row(name, values, cls = "") {
  return el("tr", {}, el("th", { text: name }), ...values.map((v) => el("td", { class: cls, text: v })));
}

function render() {
  const metrics = [...new Set(trials.flatMap((d) => Object.keys(d.trial.metrics)))].sort();
  const keys = [...new Set(trials.flatMap((d) => Object.keys(d.trial.config)))].sort();
  const devices = [...new Set(trials.flatMap((d) => d.measurements.filter((m) => m.part === "decoder").map((m) => m.device)))].sort();
  $("comparison").replaceChildren(
    el("tr", {}, el("th", { text: "" }), ...trials.map((d) => el("th", {}, el("a", { href: `/trials/${d.trial.id}`, text: `trial ${d.trial.number}` }), ` (${d.campaign_name})`))),
    row("state", trials.map((d) => d.trial.state + (d.on_front ? ", front" : "") + (d.trial.feasible === false ? ", infeasible" : ""))),
    ...keys.map((k) => row(k, trials.map((d) => JSON.stringify(d.trial.config[k] ?? null)))),
    ...metrics.map((m) => el("tr", {}, el("th", { text: label(m) }), ...trials.map((d) => metricCell(d.trial, m, { class: "num" })))),
    ...devices.map((dev) => row(`decode 12 MP on ${dev} (ms)`, trials.map((d) => {
      const ms = d.measurements.filter((m) => m.part === "decoder" && m.device === dev).map((m) => m.estimate_12mp_ms);
      return ms.length ? fmt(Math.min(...ms), "decode_ms_12mp") : "–";
    }), "num")),
  );
  showFootnote("compare-footnote", trials.some((d) => Object.keys(d.trial.extrapolated).length));
  const shared = trials.map((d) => new Set(d.images)).reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
  $("image").replaceChildren(...[...shared].sort().map((n) => el("option", { value: n, text: n })));
}

function loadViewer() {
  const image = $("image").value;
  if (!image) { $("viewer").textContent = "these trials share no stored reconstruction"; return; }
  const first = trials[0].trial.id;
  const panels = [{ title: "original", url: `/api/trials/${first}/images/${encodeURIComponent(image)}/original.png` }];
  for (const d of trials) {
    const m = d.per_image[image] || {};
    panels.push({ title: `trial ${d.trial.number}`, caption: `${fmt(m.bpp, "bpp")} bpp, ${fmt(m.psnr, "psnr")} dB`, url: `/api/trials/${d.trial.id}/images/${encodeURIComponent(image)}/reconstruction.png` });
  }
  viewer = new SyncedViewer($("viewer"), panels, { zoom: Number($("zoom").value) });
}

async function start() {
  if (ids.length < 2) throw new Error("give two or more trial ids: /compare?ids=1,2");
  trials = await Promise.all(ids.map((id) => api(`/api/trials/${id}`)));
  render();
  loadViewer();
  document.body.dataset.ready = "1";
}

$("image").addEventListener("change", loadViewer);
$("zoom").addEventListener("change", () => viewer && viewer.setZoom(Number($("zoom").value)));
start().catch(showError);
