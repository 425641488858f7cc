// runboard: click a column header to sort a table; the page works without this script.
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
})();
