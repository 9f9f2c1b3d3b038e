// A campaign: Pareto scatter with a latency-budget slider, funnel, hypervolume, trials table,
// run controls, and polling while the campaign runs.
import { api, clearError, configText, el, flagged, fmt, label, showError, showFootnote, unit } from "./common.js";
import { lines, scatter } from "./charts.js";
import { TrialsTable } from "./trials_table.js";

const body = document.body;
const campaignId = Number(body.dataset.campaignId);
const pollMs = Math.max(1, Number(body.dataset.pollSeconds || 5)) * 1000;
const KNOWN = ["quality_ratio_vs_jpeg", "decode_ms_12mp", "decode_ms_tile", "bpp", "psnr", "ms_ssim", "train_seconds", "rating_score"];
const $ = (id) => document.getElementById(id);

const state = {
  detail: null,
  front: null,
  plot: null,
  frontIds: new Set(),
  table: null,
  signature: "",
  configs: new Map(),
  bestTimer: null,
};

// ------------------------------------------------------------------ header, funnel, actions

function renderHeader(c) {
  $("campaign-name").textContent = c.name;
  document.title = `${c.name} · codecnas`;
  const status = $("status");
  status.textContent = c.run && c.run.running ? `${c.status} (pid ${c.run.pid})` : c.status;
  status.className = `badge ${c.status}`;
}

function renderFunnel(c) {
  if (c.funnel && c.funnel.length) {
    renderFunnelStages(c.funnel);
    return;
  }
  const n = c.counts;
  const widest = Math.max(1, n.sampled);
  const bar = (name, value, cls) => el("div", { class: "funnel-row" },
    el("span", { class: "funnel-label", text: name }),
    el("span", { class: `funnel-bar ${cls}`, style: `width:${(100 * value) / widest}%` }),
    el("span", { class: "funnel-value", "data-stage": cls, text: value }));
  $("funnel").replaceChildren(
    bar("sampled", n.sampled, "sampled"),
    bar("complete", n.complete, "complete"),
    bar("feasible", n.feasible, "feasible"),
    bar("on the front", n.front, "front"),
    el("p", { class: "hint", text: `${n.running} running, ${n.pending} pending, ${n.failed} failed; budget ${c.budget_trials ?? "?"} trials` }),
  );
}

// A funnel campaign: configs in and out of each stored stage, bars on a log scale (1M -> a few).
function renderFunnelStages(stages) {
  const widest = Math.log10(Math.max(10, stages[0].n_in));
  const width = (value) => (100 * Math.log10(Math.max(1, value))) / widest;
  const rows = stages.map((s) => el("div", { class: "funnel-row" },
    el("span", { class: "funnel-label", text: s.stage }),
    el("span", { class: "funnel-bar front", style: `width:${width(s.n_out)}%` }),
    el("span", { class: "funnel-value", "data-stage": s.stage,
      text: `${s.n_in.toLocaleString()} → ${s.n_out.toLocaleString()} (${s.seconds.toFixed(1)} s)` })));
  $("funnel").replaceChildren(...rows,
    el("p", { class: "hint", text: "configs in → out of each funnel stage (log scale)" }));
}

for (const button of document.querySelectorAll("button[data-action]")) {
  button.addEventListener("click", async () => {
    const out = $("action-result");
    try {
      const result = await api(`/api/campaigns/${campaignId}/${button.dataset.action}`, { method: "POST" });
      out.textContent = result.message;
      await refresh(true);
    } catch (error) {
      out.textContent = `${button.dataset.action}: ${error.message}`;
    }
  });
}

// ------------------------------------------------------------------ scatter and budget

function fillMetricSelects(c) {
  const metrics = [...new Set([...c.objectives.map((o) => o.metric), ...KNOWN])];
  for (const [id, chosen] of [["x-metric", "decode_ms_12mp"], ["y-metric", "quality_ratio_vs_jpeg"]]) {
    const select = $(id);
    if (select.options.length) continue;
    select.replaceChildren(...metrics.map((m) => el("option", { value: m, text: label(m), selected: m === chosen })));
  }
  const device = $("device");
  const known = new Set([...device.options].map((o) => o.value));
  for (const name of c.devices) if (!known.has(name)) device.append(el("option", { value: name, text: name }));
}

async function loadFront() {
  const params = new URLSearchParams({ x: $("x-metric").value || "decode_ms_12mp", y: $("y-metric").value || "quality_ratio_vs_jpeg" });
  if ($("device").value) params.set("device", $("device").value);
  state.front = await api(`/api/campaigns/${campaignId}/front?${params}`);
  performance.mark("front-fetched");
  drawScatter();
  performance.mark("scatter-drawn");
}

function drawScatter() {
  const f = state.front;
  state.frontIds = new Set(f.front_ids);
  const index = new Map(f.trial_ids.map((id, i) => [id, i]));
  const points = f.trial_ids.map((id, i) => ({
    x: f.xs[i],
    y: f.ys[i],
    cls: `${f.feasible[i] ? "feasible" : "infeasible"}${state.frontIds.has(id) ? " front" : ""}${f.extrapolated[i] ? " extrapolated" : ""}`,
  }));
  showFootnote("scatter-footnote", f.extrapolated.some(Boolean));
  const frontLine = f.front_ids.map((id) => ({ x: f.xs[index.get(id)], y: f.ys[index.get(id)] }));
  const logX = $("log-x").checked;
  state.plot = scatter($("scatter"), {
    points,
    xLabel: label(f.x) + (f.device ? ` on ${f.device}` : ""),
    yLabel: label(f.y),
    xLog: logX,
    lines: [{ points: frontLine, cls: "front-line" }],
    onHover: showTooltip,
    onLeave: () => { $("tooltip").hidden = true; },
    onClick: (i) => { location.href = `/trials/${f.trial_ids[i]}`; },
  });
  $("scatter").dataset.points = String(points.length);
  setupBudget();
}

// A point's x or y, flagged with its note when it is an extrapolated anchor ratio.
function value(f, i, axis) {
  const metric = f[axis];
  const text = fmt(f[`${axis}s`][i], metric);
  const note = f.extrapolated[i];
  return note && metric === f.extrapolated_metric ? `${flagged(text, note)} (${note})` : text;
}

function sliderToValue(position) {
  const f = state.front;
  const lo = Math.min(...f.xs);
  const hi = Math.max(...f.xs);
  const t = position / 1000;
  if ($("log-x").checked && lo > 0) return 10 ** (Math.log10(lo) + t * (Math.log10(hi) - Math.log10(lo)));
  return lo + t * (hi - lo);
}

function setupBudget() {
  const slider = $("budget");
  slider.disabled = state.front.xs.length === 0;
  updateBudget();
}

// The rule of `codecnas best` (nas.selection.best_in_campaign): among the candidates within the
// budget, the best quality (ties: the faster); if none fits, the fastest candidate, reported as
// not fitting. Candidates are the stored front when both axes are objectives, else every point.
export function bestUnder(front, budget) {
  const sign = front.y_direction === "minimize" ? 1 : -1;
  let best = null;
  let fastest = null;
  front.xs.forEach((x, i) => {
    if (front.best_from_front && !front.stored_front[i]) return;
    if (fastest === null || x < front.xs[fastest]) fastest = i;
    if (x > budget) return;
    if (best === null || sign * front.ys[i] < sign * front.ys[best] || (front.ys[i] === front.ys[best] && x < front.xs[best])) best = i;
  });
  return best !== null ? { index: best, fits: true } : { index: fastest, fits: false };
}

function updateBudget() {
  const f = state.front;
  const plot = state.plot;
  plot.layer.querySelectorAll("circle.best").forEach((c) => c.classList.remove("best"));
  const answer = $("best-answer");
  if (!f.xs.length) {
    $("budget-value").textContent = "";
    answer.textContent = "no complete trial yet";
    return;
  }
  const budget = sliderToValue(Number($("budget").value));
  // The slider bounds the x axis, whatever it shows: named and with its unit.
  $("budget-label").textContent = `budget on ${label(f.x)}`;
  $("budget-value").textContent = `${fmt(budget, f.x)} ${unit(f.x)}`.trim();
  $("budget").dataset.budget = String(budget);
  plot.budgetLine(budget);
  const choice = bestUnder(f, budget);
  const i = choice.index;
  if (i === null) {
    answer.textContent = "no candidate yet";
    return;
  }
  const circle = plot.circle(i);
  if (circle) { circle.classList.add("best"); circle.parentNode.append(circle); }
  answer.dataset.trialId = String(f.trial_ids[i]);
  answer.dataset.fits = String(choice.fits);
  answer.replaceChildren(
    choice.fits ? "best under the budget: " : "nothing fits; the fastest is ",
    el("a", { href: `/trials/${f.trial_ids[i]}`, text: `trial ${f.numbers[i]}` }),
    ` — ${label(f.y)} ${value(f, i, "y")}, ${label(f.x)} ${value(f, i, "x")}`,
    f.feasible[i] ? "" : " (breaks a constraint of the campaign)",
    el("span", { id: "best-downloads" }),
  );
  clearTimeout(state.bestTimer);
  if (f.x === "decode_ms_12mp") state.bestTimer = setTimeout(() => loadBestDownloads(budget), 300);
}

async function loadBestDownloads(budget) {
  const params = new URLSearchParams({ decode_ms: String(budget), quality: state.front.y });
  if (state.front.device) params.set("device", state.front.device);
  try {
    const best = await api(`/api/campaigns/${campaignId}/best?${params}`);
    const slot = $("best-downloads");
    if (!slot || !best.trial) return;
    slot.dataset.apiTrialId = String(best.trial.id);
    slot.replaceChildren(" · download: ", ...best.artifacts.flatMap((a) => [el("a", { href: a.url, text: a.kind }), " "]));
  } catch (error) {
    showError(error);
  }
}

async function showTooltip(i, event) {
  const f = state.front;
  const id = f.trial_ids[i];
  const tip = $("tooltip");
  const head = `trial ${f.numbers[i]}${f.feasible[i] ? "" : " (infeasible)"}${state.frontIds.has(id) ? " · front" : ""}`;
  const lines = [head, `${label(f.x)}: ${value(f, i, "x")}`, `${label(f.y)}: ${value(f, i, "y")}`];
  const place = () => {
    tip.replaceChildren(...lines.map((line) => el("div", { text: line })));
    tip.style.left = `${event.pageX + 12}px`;
    tip.style.top = `${event.pageY + 12}px`;
    tip.hidden = false;
  };
  place();
  if (!state.configs.has(id)) {
    state.configs.set(id, api(`/api/trials/${id}`).then((t) => configText(t.trial.config)).catch(() => "?"));
  }
  const config = await state.configs.get(id);
  if (!tip.hidden) { lines.push(`config: ${config}`); place(); }
}

// ------------------------------------------------------------------ hypervolume

async function loadHypervolume() {
  const hv = await api(`/api/campaigns/${campaignId}/hypervolume?max_points=500`);
  const container = $("hypervolume");
  if (!hv.points.length) { container.textContent = "no front recorded yet"; return; }
  lines(container, {
    series: [{ name: "hypervolume", cls: "hv", points: hv.points.map((p) => ({ x: p.n_complete, y: p.hypervolume })) }],
    xLabel: "complete trials",
    yLabel: "hypervolume",
    height: 220,
  });
  container.dataset.points = String(hv.points.length);
}

for (const id of ["x-metric", "y-metric", "device"]) $(id).addEventListener("change", () => loadFront().catch(showError));
$("log-x").addEventListener("change", () => drawScatter());
$("budget").addEventListener("input", () => updateBudget());

// ------------------------------------------------------------------ loading and live updates

function signature(c) {
  const n = c.counts;
  return [c.status, n.sampled, n.complete, n.failed, n.running, n.front, c.hypervolume].join("|");
}

async function refresh(force = false) {
  const c = await api(`/api/campaigns/${campaignId}/status`);
  renderHeader(c);
  renderFunnel(c);
  const changed = signature(c) !== state.signature;
  state.signature = signature(c);
  if (changed || force) {
    await Promise.all([loadFront(), loadHypervolume(), state.table.load()]);
  }
}

async function start() {
  // The scatter and the hypervolume do not wait for the campaign's details (default axes).
  const charts = Promise.all([loadFront(), loadHypervolume()]);
  state.detail = await api(`/api/campaigns/${campaignId}`);
  state.table = new TrialsTable(campaignId, state.detail.objectives.map((o) => o.metric));
  renderHeader(state.detail);
  renderFunnel(state.detail);
  // A funnel campaign's stages come with the status (not the details): draw them at once.
  api(`/api/campaigns/${campaignId}/status`).then(renderFunnel).catch(showError);
  fillMetricSelects(state.detail);
  state.signature = signature(state.detail);
  await Promise.all([charts, state.table.load()]);
  body.dataset.ready = "1";
  setInterval(() => {
    if (document.visibilityState === "visible") refresh().then(clearError).catch(showError);
  }, pollMs);
}

start().catch(showError);
