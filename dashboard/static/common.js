// Shared helpers of the dashboard's pages: API calls, DOM building, number formatting.

const TOKEN_KEY = "codecnas_token";

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// JSON API call. The token (if any) goes in the Authorization header; a read refused for want
// of a token sends the reader to the login page.
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const secret = token.get();
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = isJson ? await response.json() : null;
  if (response.status === 401 && method === "GET" && !location.pathname.startsWith("/login")) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.detail) || response.statusText);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

export const LABELS = {
  quality_ratio_vs_jpeg: "bits vs JPEG",
  decode_ms_12mp: "decode 12 MP (ms)",
  decode_ms_tile: "decode tile (ms)",
  bpp: "bpp",
  psnr: "PSNR (dB)",
  ms_ssim: "MS-SSIM",
  train_seconds: "train (s)",
  rating_score: "rating (Elo)",
};

export const label = (metric) => LABELS[metric] || metric;

// The unit a metric's values are written in ("" for ratios and scores).
export const UNITS = { decode_ms_12mp: "ms", decode_ms_tile: "ms", bpp: "bpp", psnr: "dB", train_seconds: "s" };
export const unit = (metric) => UNITS[metric] || "";

// "1 rater", "2 raters": a count with its noun, singular or plural.
export function counted(n, noun, plural = `${noun}s`) {
  return `${n} ${n === 1 ? noun : plural}`;
}

export function fmt(value, metric = "") {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value) || Number.isInteger(value)) return value.toLocaleString("en-US");
  if (metric.endsWith("_ms_12mp") || metric.startsWith("decode_ms") || Math.abs(value) >= 1000) {
    return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  }
  if (metric === "ms_ssim") return value.toFixed(4);
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return String(Number(value.toPrecision(4)));
}

// An anchor ratio computed outside the anchor's measured quality range: the server decides
// (codec/anchor_extrapolation.py) and sends a note such as "extrap. 4/6 images"; pages show the
// value with the server's marker (base.html), its note on hover, and the page's footnote.
export function flagged(text, note) {
  return note ? `${text}${document.body.dataset.ratioMarker}` : text;
}

// A metric's value in a table cell: flagged, with the note as its tooltip.
export function metricCell(trial, metric, attrs = {}) {
  const note = (trial.extrapolated || {})[metric];
  return el("td", { ...attrs, class: [attrs.class, note && "extrapolated"].filter(Boolean).join(" "), title: note, text: flagged(fmt(trial.metrics[metric], metric), note) });
}

// Show the footnote (by id) when some value on the page is flagged.
export function showFootnote(id, shown) {
  const note = document.getElementById(id);
  if (note) note.hidden = !shown;
}

export function showError(error) {
  const box = document.getElementById("error");
  if (!box) return;
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById("error");
  if (box) box.hidden = true;
}

export function configText(config) {
  return Object.entries(config).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

export function kvRows(table, entries) {
  table.replaceChildren(
    ...entries.map(([key, value]) => el("tr", {}, el("th", { text: key }), el("td", { text: value }))),
  );
}
