// The campaigns list, and creating a campaign from a YAML (or JSON) spec (admin token).
import { api, el, fmt, showError } from "./common.js";

async function load() {
  const campaigns = await api("/api/campaigns");
  document.querySelector("#campaigns tbody").replaceChildren(
    ...campaigns.map((c) => el("tr", {},
      el("td", { text: c.id }),
      el("td", {}, el("a", { href: `/campaigns/${c.id}`, text: c.name })),
      el("td", {}, el("span", { class: `badge ${c.status}`, text: c.status })),
      el("td", { text: `${c.counts.complete} / ${c.budget_trials ?? "?"}` }),
      el("td", { text: c.counts.feasible }),
      el("td", { text: c.counts.front }),
      el("td", { text: c.counts.failed }),
      el("td", { text: fmt(c.hypervolume) }),
    )),
  );
  document.body.dataset.ready = "1";
}

document.getElementById("create").addEventListener("click", async () => {
  const out = document.getElementById("create-result");
  try {
    const spec = document.getElementById("spec").value;  // the server parses it as the CLI does
    const launch = document.getElementById("launch").checked;
    const result = await api("/api/campaigns", { method: "POST", body: { spec, launch } });
    out.textContent = result.message;
    await load();
  } catch (error) {
    out.textContent = error.message;
  }
});

load().catch(showError);
