// report-qa UI behaviour: citation links open their document in the report panel, select and
// scroll to the paragraph, and ask for the cited passage's original page (PDF); the page view's
// previous/next buttons ask for a page, its zoom buttons scale it; copy buttons copy.
(() => {
  if (window.reportQa) return;

  const panel = () => document.getElementById("report-panel");

  // Show document `doc` of the report panel, select its paragraph `index` and scroll the panel (only) to it.
  function select(doc, index) {
    const box = panel();
    const para = document.getElementById("doc-" + doc + "-para-" + index);
    if (!box || !para || !box.contains(para)) return false;
    box.querySelectorAll(".doc").forEach((el) => { el.hidden = el.dataset.doc !== String(doc); });
    box.querySelectorAll(".para.selected").forEach((el) => el.classList.remove("selected"));
    para.classList.add("selected", "flash");
    setTimeout(() => para.classList.remove("flash"), 1200);
    const offset = para.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, offset - Math.max(0, box.clientHeight - para.offsetHeight) / 2);
    return true;
  }

  // Scroll to the paragraph the server marked as selected (after an answer re-renders the panel).
  function showSelected(tries = 20) {
    const para = panel() && panel().querySelector(".para.selected");
    if (para) select(para.dataset.doc, para.dataset.para);
    else if (tries > 0) setTimeout(() => showSelected(tries - 1), 50);
  }

  // Ask the server for a page view ("rank:page", see ui/page_view.py) through the hidden
  // #page-request box; the time makes each request a change, even when repeated.
  function requestPage(request) {
    const box = document.querySelector("#page-request textarea, #page-request input");
    if (!box) return;
    box.value = request + ":" + Date.now();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The page view's zoom: a factor on the page frames' width, kept on the #pages element so it
  // outlives each new view; marks are placed in percentages and scale with the page.
  const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
  function zoom(step) {
    const box = document.getElementById("pages");
    if (!box) return;
    const now = Number(box.dataset.zoom || "1");
    const index = Math.min(ZOOMS.length - 1, Math.max(0, ZOOMS.indexOf(now) + step));
    box.dataset.zoom = String(ZOOMS[index]);
    box.style.setProperty("--page-zoom", String(ZOOMS[index]));
    box.style.setProperty("--page-zoom-label", '"' + Math.round(ZOOMS[index] * 100) + '%"');
    showMark();
  }

  // Scroll the page view to the cited passage's outline (after a new view or a zoom).
  function showMark(tries = 20) {
    const mark = document.querySelector("#pages .page-mark.passage");
    const scroller = mark && mark.closest(".page-scroll");
    if (!scroller) {
      if (tries > 0) setTimeout(() => showMark(tries - 1), 50);
      return;
    }
    const offset = mark.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    scroller.scrollTop = Math.max(0, offset - scroller.clientHeight / 3);
  }

  // Show the cited documents' text ("全文") or the original pages ("原文页面").
  function showMode(mode) {
    document.body.classList.toggle("show-pages", mode === "原文页面");
    if (mode === "原文页面") showMark();
  }

  async function copy(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (error) { /* fall back below */ }
    try {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.cssText = "position:fixed;top:0;left:0;opacity:0;";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    } catch (error) {
      return false;
    }
  }

  function feedback(button, ok) {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = ok ? "已复制" : "复制失败，请手动选择";
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const cite = target.closest("a.cite");
    if (cite) {
      event.preventDefault();
      event.stopPropagation();
      select(cite.dataset.doc, cite.dataset.para);
      const card = cite.closest("article.card");
      if (card) requestPage(card.dataset.rank + ":");
      return;
    }
    const nav = target.closest("button.page-nav");
    if (nav) {
      event.preventDefault();
      if (!nav.disabled) requestPage(nav.dataset.request);
      return;
    }
    const zoomButton = target.closest("button.page-zoom");
    if (zoomButton) {
      event.preventDefault();
      zoom(Number(zoomButton.dataset.zoom));
      return;
    }
    const button = target.closest("button.copy");
    if (button) {
      event.preventDefault();
      event.stopPropagation();
      copy(button.dataset.copy || "").then((ok) => feedback(button, ok), () => feedback(button, false));
    }
  }, true);

  window.reportQa = { select, showSelected, requestPage, showMode, showMark, zoom };
})();
