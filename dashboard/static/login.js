// Log in: check the token with the server, keep it in this browser and in a read-only cookie.
import { api, el, token } from "./common.js";

const result = document.getElementById("login-result");
const next = new URLSearchParams(location.search).get("next") || "/";

document.getElementById("login").addEventListener("click", async () => {
  const secret = document.getElementById("token").value.trim();
  if (!secret) return;
  token.set(secret);
  try {
    const who = await api("/api/session", { method: "POST" });
    result.replaceChildren(el("p", { text: `logged in as ${who.name} (${who.role})` }));
    location.href = next.startsWith("/") ? next : "/";
  } catch (error) {
    token.clear();
    result.replaceChildren(el("p", { class: "error", text: error.message }));
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  token.clear();
  await api("/api/session", { method: "DELETE" }).catch(() => null);
  result.replaceChildren(el("p", { text: "logged out" }));
});
