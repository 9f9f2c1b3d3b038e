// Blind pairwise rating: two reconstructions of one image in random order; the rater says which
// looks better, or "same". Nothing on the page tells which trial or codec made which picture.
import { api, counted, el, fmt, showError, token } from "./common.js";
import { SyncedViewer } from "./viewer.js";

const campaignId = Number(document.body.dataset.campaignId);
const $ = (id) => document.getElementById(id);
let pair = null;
let viewer = null;
let rated = 0;

async function next() {
  pair = await api(`/api/campaigns/${campaignId}/ratings/pair`);
  viewer = new SyncedViewer($("viewer"), [
    { title: "left", url: pair.first.url },
    { title: "right", url: pair.second.url },
  ], { zoom: Number($("zoom").value) });
  document.body.dataset.ready = "1";
}

async function rate(outcome) {
  if (!pair) return;
  if (!token.get()) { $("login-needed").hidden = false; return; }
  await api(`/api/campaigns/${campaignId}/ratings`, {
    method: "POST",
    body: { image: pair.image, first: pair.first.contestant, second: pair.second.contestant, outcome, first_bpp: pair.first.bpp, second_bpp: pair.second.bpp },
  });
  rated += 1;
  $("rated").textContent = `${rated} rated in this session`;
  await next();
}

async function loadScores() {
  const result = await api(`/api/campaigns/${campaignId}/ratings/scores`);
  $("scores").replaceChildren(
    el("tr", {}, ...["contestant", "Elo", "wins", "ties", "losses"].map((h) => el("th", { text: h }))),
    ...result.scores.map((s) => el("tr", {},
      el("td", {}, s.trial_id ? el("a", { href: `/trials/${s.trial_id}`, text: `trial ${s.trial_number}` }) : s.contestant.toUpperCase()),
      el("td", { class: "num", text: fmt(s.elo, "elo") }), el("td", { text: s.wins }), el("td", { text: s.ties }), el("td", { text: s.losses }))),
    el("tr", {}, el("td", { colspan: 5, class: "hint", text: `${counted(result.ratings, "rating")} by ${counted(result.raters, "rater")}` })),
  );
}

$("login-needed").hidden = Boolean(token.get());
for (const button of document.querySelectorAll("button[data-outcome]")) {
  button.addEventListener("click", () => rate(button.dataset.outcome).catch(showError));
}
document.addEventListener("keydown", (event) => {
  const outcome = { 1: "first", 2: "same", 3: "second" }[event.key];
  if (outcome) rate(outcome).catch(showError);
});
$("zoom").addEventListener("change", () => viewer && viewer.setZoom(Number($("zoom").value)));
$("scores-card").addEventListener("toggle", () => { if ($("scores-card").open) loadScores().catch(showError); });
next().catch(showError);
