
// onwatch report: filters, searches and pages the findings table from the JSON data island.
// Rows are built with DOM calls and textContent only (never innerHTML), exactly as the report's
// first page is rendered (src/report/html/table.rs, push_row).
(function () {
  'use strict';
  var island = document.getElementById('findings-data');
  if (!island) return;
  var data = JSON.parse(island.textContent);
  var form = document.getElementById('filters');
  var body = document.getElementById('findings-body');
  var count = document.getElementById('findings-count');
  var prev = document.getElementById('page-prev');
  var next = document.getElementById('page-next');
  var table = document.getElementById('findings-table');
  var shown = data.rows;
  var page = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function cell(label, child) {
    var td = el('td');
    td.setAttribute('data-label', label);
    td.append(child);
    return td;
  }
  function labelled(label, value) {
    var p = el('p');
    p.append(el('strong', '', label + ':'), ' ', el('code', '', value));
    return p;
  }
  function diffClass(line) {
    var first = line.charAt(0);
    return first === '+' ? 'add' : first === '-' ? 'del' : first === '@' ? 'hunk' : 'ctx';
  }
  function driftDetails(details, drift) {
    if (drift.address !== null) details.append(labelled('Terraform', drift.address));
    if (drift.changes.length) {
      var changes = el('table', 'changes');
      var head = el('tr');
      ['Field', 'Declared', 'Live'].forEach(function (name) {
        var th = el('th', '', name);
        th.setAttribute('scope', 'col');
        head.append(th);
      });
      changes.appendChild(el('thead')).append(head);
      var tbody = changes.appendChild(el('tbody'));
      drift.changes.forEach(function (change) {
        var tr = tbody.appendChild(el('tr'));
        var field = tr.appendChild(el('td'));
        field.append(el('code', '', change[0]));
        tr.append(el('td', '', change[1]), el('td', '', change[2]));
      });
      details.append(changes);
    }
    if (drift.diff !== null) {
      var pre = el('pre', 'diff');
      drift.diff.forEach(function (line) { pre.append(el('span', diffClass(line), line), '\n'); });
      details.append(pre);
    }
  }
  function dash(text) { return text === '' ? '\u2014' : text; }
  function rowElement(row) {
    var severity = data.severities[row[0]];
    var tr = el('tr', 'sev-' + severity);
    var summary = el('summary');
    summary.append(el('span', 'name', row[4]));
    if (row[11] !== null) summary.append(el('span', 'also', data.requirement_label + ' ' + row[11]));
    if (row[5] !== null) summary.append(el('span', 'also', 'alarm ' + row[5]));
    var details = el('details');
    details.append(summary, el('p', '', row[6]));
    if (row[10] !== null) driftDetails(details, row[10]);
    var fix = el('p');
    fix.append(el('strong', '', 'Fix:'), ' ' + data.texts[row[7]]);
    details.append(fix);
    if (row[8] >= 0) details.append(labelled(data.origin_label, data.texts[row[8]] + ':' + row[9]));
    tr.append(cell('Severity', el('span', 'sev', severity)), cell('Code', el('code', '', data.codes[row[1]])),
      cell('Type', dash(data.types[row[2]])), cell('Account', dash(data.accounts[row[3]])), cell('Resource', details));
    return tr;
  }

  function render() {
    var start = page * data.page_size;
    var end = Math.min(start + data.page_size, shown.length);
    var fragment = document.createDocumentFragment();
    for (var i = start; i < end; i++) fragment.append(rowElement(shown[i]));
    body.replaceChildren(fragment);
    var filtered = shown.length === data.rows.length ? '' : ' (filtered from ' + data.rows.length + ')';
    count.textContent = shown.length === 0 ? 'No rows match' + filtered : 'Showing ' + (start + 1) + '\u2013' + end + ' of ' + shown.length + filtered;
    prev.disabled = page === 0;
    next.disabled = end >= shown.length;
  }

  function chosen(name) {
    var value = form.elements[name].value;
    return value === '' ? -1 : Number(value);
  }
  function apply() {
    var severity = chosen('severity'), code = chosen('code'), type = chosen('type'), account = chosen('account');
    var query = form.elements.q.value.trim().toLowerCase();
    shown = data.rows.filter(function (row) {
      if ((severity >= 0 && row[0] !== severity) || (code >= 0 && row[1] !== code) || (type >= 0 && row[2] !== type) || (account >= 0 && row[3] !== account)) return false;
      if (query === '') return true;
      var names = row[4] + '\n' + (row[5] || '') + '\n' + (row[10] && row[10].address || '');
      return names.toLowerCase().indexOf(query) >= 0;
    });
    page = 0;
    render();
    // What the table shows now, for tests and scripts that drive the page.
    table.dataset.severity = form.elements.severity.value;
    table.dataset.query = query;
  }

  // Typing in the search waits for a pause on large tables; the filters apply at once.
  var pending;
  form.addEventListener('input', function (event) {
    clearTimeout(pending);
    if (event.target.name === 'q' && data.rows.length > 20000) pending = setTimeout(apply, 150);
    else apply();
  });
  form.addEventListener('submit', function (event) { event.preventDefault(); apply(); });
  prev.addEventListener('click', function () { page -= 1; render(); });
  next.addEventListener('click', function () { page += 1; render(); });
  // Printing shows the current page with every row open.
  window.addEventListener('beforeprint', function () {
    body.querySelectorAll('details').forEach(function (details) { details.open = true; });
  });
  document.documentElement.setAttribute('data-ready', '');
})();
