// The PDF viewer: every page of a document drawn into a canvas with pdf.js (vendored, loaded on demand).
// Progressive enhancement: the fragment's download link works without this file, and stays when drawing fails.
// No eval (isEvalSupported: false) and a same-origin worker, so a strict Content-Security-Policy holds.
const SELECTOR = "[data-pdf-viewer]";
const MAX_WIDTH = 900;

function setState(viewer, state) {
  viewer.dataset.pdfState = state;
  const status = viewer.querySelector("[data-pdf-status]");
  if (!status) return;
  const text = viewer.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)];
  status.textContent = text || "";
  status.hidden = !text;
}

function pageLabel(viewer, number, total) {
  return (viewer.dataset.labelPage || "%n / %t").replace("%n", String(number)).replace("%t", String(total));
}

async function drawPage(page, canvas, width) {
  const base = page.getViewport({ scale: 1 });
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / base.width) * ratio });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.style.width = Math.floor(viewport.width / ratio) + "px";
  canvas.style.height = Math.floor(viewport.height / ratio) + "px";
  await page.render({ canvasContext: canvas.getContext("2d"), viewport: viewport }).promise;
  canvas.dataset.pdfRendered = "1";
}

// Pages are laid out at once (right size, so scrolling is stable) and drawn when they come near the screen.
function drawWhenVisible(pages, pdf, width) {
  const draw = function (canvas) {
    if (canvas.dataset.pdfRequested) return;
    canvas.dataset.pdfRequested = "1";
    pdf.getPage(Number(canvas.dataset.pdfPage)).then(function (page) { return drawPage(page, canvas, width); });
  };
  if (!("IntersectionObserver" in window)) {
    pages.forEach(draw);
    return;
  }
  const observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        draw(entry.target);
      }
    });
  }, { rootMargin: "600px 0px" });
  pages.forEach(function (canvas) { observer.observe(canvas); });
}

async function layOut(viewer, pdf) {
  const holder = viewer.querySelector("[data-pdf-pages]");
  const width = Math.min(holder.clientWidth || MAX_WIDTH, MAX_WIDTH);
  const canvases = [];
  for (let number = 1; number <= pdf.numPages; number += 1) {
    const page = await pdf.getPage(number);
    const base = page.getViewport({ scale: 1 });
    const canvas = document.createElement("canvas");
    canvas.className = "pdf-page";
    canvas.dataset.pdfPage = String(number);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", pageLabel(viewer, number, pdf.numPages));
    canvas.style.width = width + "px";
    canvas.style.height = Math.floor((base.height * width) / base.width) + "px";
    holder.appendChild(canvas);
    canvases.push(canvas);
  }
  viewer.dataset.pdfPages = String(pdf.numPages);
  drawWhenVisible(canvases, pdf, width);
}

async function show(viewer) {
  if (viewer.dataset.pdfState) return;
  setState(viewer, "loading");
  try {
    const pdfjs = await import(viewer.dataset.pdfModule);
    pdfjs.GlobalWorkerOptions.workerSrc = viewer.dataset.pdfWorker;
    const pdf = await pdfjs.getDocument({
      url: viewer.dataset.pdfUrl,
      isEvalSupported: false,
      withCredentials: true,
    }).promise;
    await layOut(viewer, pdf);
    setState(viewer, "ready");
  } catch (error) {
    setState(viewer, "failed");
    if (window.console) console.warn("PDF viewer:", error);
  }
}

function enhance(root) {
  root.querySelectorAll(SELECTOR).forEach(show);
}

enhance(document);
document.addEventListener("htmx:after:swap", function () { enhance(document); });
