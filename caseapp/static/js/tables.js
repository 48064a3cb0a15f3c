// Phone width: every table becomes stacked cards (ruta.css, "table.stacked"), so each cell needs its column's name.
// This copies each column header's text into the cells' data-label, for every table on every page, without any
// template naming its columns twice. Explicit ARIA roles keep the table's semantics once CSS changes its display.
(function () {
  "use strict";
  function headers(table) {
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    var names = [];
    if (!row) { return names; }
    Array.prototype.forEach.call(row.cells, function (cell) {
      var span = cell.colSpan || 1;
      for (var i = 0; i < span; i += 1) { names.push((cell.textContent || "").replace(/\s+/g, " ").trim()); }
    });
    return names;
  }
  function stack(table) {
    if (table.hasAttribute("data-keep-table")) { return; }
    var names = headers(table);
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot"), function (group) {
      group.setAttribute("role", "rowgroup");
    });
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var inHead = row.parentNode === table.tHead;
        if (cell.tagName === "TH") {
          cell.setAttribute("role", inHead || cell.getAttribute("scope") === "col" ? "columnheader" : "rowheader");
        } else {
          cell.setAttribute("role", "cell");
        }
        if (!inHead && (cell.colSpan || 1) === 1 && names[column] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", names[column]);
        }
        column += cell.colSpan || 1;
      });
    });
    table.classList.add("stacked");
  }
  Array.prototype.forEach.call(document.querySelectorAll("main table"), stack);
}());
