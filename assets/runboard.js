// runboard: click a column header to sort a table, type to filter the runs;
// the page works without this script (the filter box stays hidden).
(function () {
  "use strict";
  function cellKey(cell, kind) {
    var raw = cell.getAttribute("data-value");
    var text = raw !== null ? raw : cell.textContent.trim();
    if (kind === "text") return { num: false, v: text.toLowerCase() };
    var n = parseFloat(text);
    if (text !== "" && !isNaN(n)) return { num: true, v: n };
    return kind === "num" ? { num: true, v: null } : { num: false, v: text.toLowerCase() };
  }
  function compare(a, b) {
    if (a.v === null || a.v === "") return (b.v === null || b.v === "") ? 0 : 1;
    if (b.v === null || b.v === "") return -1;
    if (a.num && b.num) return a.v - b.v;
    if (a.num !== b.num) return a.num ? -1 : 1;
    return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, col) {
      var kind = th.getAttribute("data-sort");
      if (!kind) return;
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        // Each entry (a run, or a seed set with its runs) is a tbody, sorted by its first row.
        var bodies = Array.prototype.slice.call(table.tBodies);
        bodies.sort(function (b1, b2) {
          var c = compare(cellKey(b1.rows[0].cells[col], kind), cellKey(b2.rows[0].cells[col], kind));
          return asc ? c : -c;
        });
        bodies.forEach(function (b) { table.appendChild(b); });
      });
    });
  });
  document.querySelectorAll(".table-tools").forEach(function (tools) {
    var table = tools.nextElementSibling && tools.nextElementSibling.querySelector("table");
    var input = tools.querySelector(".run-filter");
    var count = tools.querySelector(".filter-count");
    if (!table || !input) return;
    tools.hidden = false;
    var bodies = Array.prototype.slice.call(table.tBodies);
    input.addEventListener("input", function () {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      // A seed set stays whole: it shows when it or any of its runs matches.
      bodies.forEach(function (body) {
        var text = body.textContent.toLowerCase();
        var keep = terms.every(function (t) { return text.indexOf(t) !== -1; });
        body.hidden = !keep;
        if (keep) shown += 1;
      });
      count.textContent = terms.length ? shown + " of " + bodies.length + " entries" : "";
    });
  });
})();
