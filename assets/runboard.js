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
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(cellKey(r1.cells[col], kind), cellKey(r2.cells[col], kind));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll(".table-tools").forEach(function (tools) {
    var table = tools.nextElementSibling && tools.nextElementSibling.querySelector("table");
    var input = tools.querySelector(".run-filter");
    var count = tools.querySelector(".filter-count");
    if (!table || !input) return;
    tools.hidden = false;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    input.addEventListener("input", function () {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var keep = terms.every(function (t) { return text.indexOf(t) !== -1; });
        row.hidden = !keep;
        if (keep) shown += 1;
      });
      count.textContent = terms.length ? shown + " of " + rows.length + " runs" : "";
    });
  });
})();
