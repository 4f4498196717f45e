// report-qa UI behaviour: citation links open their document in the report panel, select and
// scroll to the paragraph; copy buttons copy.
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
      return;
    }
    const button = target.closest("button.copy");
    if (button) {
      event.preventDefault();
      event.stopPropagation();
      copy(button.dataset.copy || "").then((ok) => feedback(button, ok), () => feedback(button, false));
    }
  }, true);

  window.reportQa = { select, showSelected };
})();
