// The header's session line: who is logged in (the token lives in this browser only).
import { api, el, token } from "./common.js";

async function show() {
  const slot = document.getElementById("session");
  if (!token.get()) return;
  try {
    const who = await api("/api/session");
    if (who.authenticated) {
      slot.replaceChildren(el("span", { text: `${who.name} (${who.role}) ` }), el("a", { href: "/login", text: "log out" }));
    }
  } catch (error) {
    slot.replaceChildren(el("a", { href: "/login", text: "log in again" }));
  }
}

show();
