// The campaign's trials, a page at a time from the server: sortable by any metric, filtered by
// state and feasibility; rows can be picked for the compare page.
import { api, configText, el, label, metricCell, showError, showFootnote } from "./common.js";

const PAGE = 50;
const $ = (id) => document.getElementById(id);

export class TrialsTable {
  constructor(campaignId, objectives) {
    this.campaignId = campaignId;
    this.metrics = [...new Set([...objectives, "bpp", "psnr", "decode_ms_12mp"])];
    this.offset = 0;
    this.sort = "number";
    this.order = "asc";
    this.selected = new Set();
    const reload = () => this.load().catch(showError);
    $("prev").addEventListener("click", () => { this.offset = Math.max(0, this.offset - PAGE); reload(); });
    $("next").addEventListener("click", () => { this.offset += PAGE; reload(); });
    for (const id of ["state-filter", "feasible-filter"]) $(id).addEventListener("change", () => { this.offset = 0; reload(); });
    $("compare").addEventListener("click", () => { location.href = `/compare?ids=${[...this.selected].join(",")}`; });
  }

  async load() {
    const params = new URLSearchParams({ offset: this.offset, limit: PAGE, sort: this.sort, order: this.order });
    if ($("state-filter").value) params.set("state", $("state-filter").value);
    if ($("feasible-filter").value) params.set("feasible", $("feasible-filter").value);
    const page = await api(`/api/campaigns/${this.campaignId}/trials?${params}`);
    const header = (key, text) => {
      const arrow = this.sort === key ? (this.order === "asc" ? " ▲" : " ▼") : "";
      return el("th", { class: "sortable", "data-sort": key, text: text + arrow, onclick: () => this.sortBy(key) });
    };
    $("trials").querySelector("thead").replaceChildren(el("tr", {}, el("th", { text: "" }), header("number", "#"),
      el("th", { text: "state" }), el("th", { text: "feasible" }), ...this.metrics.map((m) => header(m, label(m))), el("th", { text: "config" })));
    $("trials").querySelector("tbody").replaceChildren(...page.items.map((trial) => el("tr", { "data-trial-id": trial.id },
      el("td", {}, el("input", { type: "checkbox", checked: this.selected.has(trial.id), onchange: (e) => this.select(trial.id, e.target.checked) })),
      el("td", {}, el("a", { href: `/trials/${trial.id}`, text: trial.number })),
      el("td", { text: trial.state + (trial.error ? ` — ${trial.error.split("\n")[0].slice(0, 60)}` : "") }),
      el("td", { text: trial.feasible === null ? "–" : trial.feasible ? "yes" : "no" }),
      ...this.metrics.map((m) => metricCell(trial, m, { class: "num" })),
      el("td", { class: "config", text: configText(trial.config) }),
    )));
    showFootnote("trials-footnote", page.items.some((t) => this.metrics.some((m) => t.extrapolated[m])));
    const last = page.offset + page.items.length;
    $("page-info").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "no trials";
    $("prev").disabled = page.offset === 0;
    $("next").disabled = last >= page.total;
  }

  sortBy(key) {
    this.order = this.sort === key && this.order === "asc" ? "desc" : "asc";
    this.sort = key;
    this.offset = 0;
    this.load().catch(showError);
  }

  select(id, on) {
    if (on) this.selected.add(id); else this.selected.delete(id);
    $("compare").disabled = this.selected.size < 2;
  }
}
