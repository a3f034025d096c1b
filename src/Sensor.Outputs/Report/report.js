// Sorts a report table by the clicked (or Enter/Space on the focused) column header; a second
// click reverses. Cells sort by their data-v attribute when they have one, else by their text;
// equal keys keep the order the report was written in.
(function () {
  'use strict';
  function key(row, column, numeric) {
    var cell = row.cells[column];
    var v = cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent;
    return numeric ? Number(v) : v;
  }
  function sortBy(th) {
    var table = th.closest('table');
    var body = table.tBodies[0];
    var column = th.cellIndex;
    var numeric = th.getAttribute('data-type') === 'num';
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (r, n) { if (!r.hasAttribute('data-i')) r.setAttribute('data-i', String(n)); });
    rows.sort(function (a, b) {
      var x = key(a, column, numeric), y = key(b, column, numeric);
      var c = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      if (!ascending) c = -c;
      return c || Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable th'), function (th) {
    th.tabIndex = 0;
    th.title = 'Sort by this column';
    th.addEventListener('click', function () { sortBy(th); });
    th.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th); }
    });
  });
  document.documentElement.setAttribute('data-sortable', 'ready');
})();
