// Side-by-side pictures with one shared crop: drag any panel to move it, the wheel zooms.
// Pixels are drawn unsmoothed, so at 2x-8x the codecs' artefacts are what one sees.
import { el } from "./common.js";

const SIZE = 320;

export class SyncedViewer {
  // panels: [{title, caption, url}]
  constructor(container, panels, { zoom = 2 } = {}) {
    this.zoom = zoom;
    this.cx = null;
    this.cy = null;
    this.panels = panels.map((panel) => {
      const canvas = el("canvas", { width: SIZE, height: SIZE });
      const figure = el("figure", { class: "panel", "data-title": panel.title },
        el("figcaption", {}, el("b", { text: panel.title }), " ", el("span", { text: panel.caption || "" })),
        canvas);
      const image = new Image();
      image.onload = () => {
        figure.dataset.loaded = "1";
        if (this.cx === null) { this.cx = image.naturalWidth / 2; this.cy = image.naturalHeight / 2; }
        this.draw();
      };
      image.onerror = () => { figure.dataset.loaded = "error"; figure.classList.add("broken"); };
      image.src = panel.url;
      this.#drag(canvas);
      return { canvas, image, figure };
    });
    container.replaceChildren(...this.panels.map((p) => p.figure));
  }

  setZoom(zoom) {
    this.zoom = Math.min(16, Math.max(1, zoom));
    this.draw();
  }

  draw() {
    for (const { canvas, image } of this.panels) {
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#222";
      ctx.fillRect(0, 0, SIZE, SIZE);
      if (!image.complete || !image.naturalWidth || this.cx === null) continue;
      ctx.imageSmoothingEnabled = false;
      const span = SIZE / this.zoom;
      const sx = Math.max(0, Math.min(image.naturalWidth - span, this.cx - span / 2));
      const sy = Math.max(0, Math.min(image.naturalHeight - span, this.cy - span / 2));
      ctx.drawImage(image, sx, sy, span, span, 0, 0, SIZE, SIZE);
    }
  }

  #drag(canvas) {
    let last = null;
    canvas.addEventListener("pointerdown", (event) => { last = [event.clientX, event.clientY]; canvas.setPointerCapture(event.pointerId); });
    canvas.addEventListener("pointerup", () => { last = null; });
    canvas.addEventListener("pointermove", (event) => {
      if (!last || this.cx === null) return;
      this.cx -= (event.clientX - last[0]) / this.zoom;
      this.cy -= (event.clientY - last[1]) / this.zoom;
      last = [event.clientX, event.clientY];
      this.draw();
    });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.setZoom(this.zoom * (event.deltaY < 0 ? 2 : 0.5));
      const select = document.getElementById("zoom");
      if (select) select.value = String(this.zoom);
    }, { passive: false });
  }
}
