// /observatory: how values read on the page (French number and date formats), shared by
// observatory-question.js, observatory-charts.js and observatory.js (window.ldaObservatory).
// A value hidden by disclosure control (null in the API) reads "secret statistique", never 0;
// a rate whose denominator is a published zero reads "sans objet".
(function (O) {
  'use strict';

  var SECRET = 'secret statistique';
  var NOT_APPLICABLE = 'sans objet';
  var nf = new Intl.NumberFormat('fr-FR');
  var pf = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var df = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  var mf = new Intl.DateTimeFormat('fr-FR', { month: 'short', year: 'numeric', timeZone: 'UTC' });

  /** An element with attributes (`text`, `className` or any attribute) and children. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') node.textContent = attrs[k];
        else if (k === 'className') node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function pad2(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** "1 janvier 2024" for "2024-01-01". */
  function longDate(iso) {
    var p = iso.split('-');
    return df.format(new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])));
  }

  function thisYear() {
    return new Date().getFullYear();
  }

  /**
   * The state of a published value: 'value' (a number), 'hidden' (null: hidden by disclosure
   * control) or 'na' (a rate whose denominator is a published zero).
   */
  function valueState(value, denominator) {
    if (value !== null && value !== undefined) return 'value';
    return denominator === 0 ? 'na' : 'hidden';
  }

  /** A count or a share as a node: "secret statistique" when hidden, "sans objet" for 0/0. */
  function valueNode(value, kind, denominator) {
    var s = valueState(value, denominator);
    if (s === 'hidden') return el('span', { className: 'secret', text: SECRET });
    if (s === 'na') return el('span', { className: 'not-applicable', text: NOT_APPLICABLE });
    return document.createTextNode(kind === 'share' ? pf.format(value) : nf.format(value));
  }

  /** The label of a series point: "janv. 2024", "T1 2024" or "2024". */
  function periodLabel(item, granularity) {
    var p = item.period;
    if (granularity === 'month') {
      var s = item.period_start.split('-');
      return mf.format(new Date(Date.UTC(+s[0], +s[1] - 1, 1)));
    }
    if (granularity === 'quarter') {
      var m = /^(\d{4})-Q(\d)$/.exec(p);
      return m ? 'T' + m[2] + ' ' + m[1] : p;
    }
    return p;
  }

  O.format = {
    SECRET: SECRET,
    NOT_APPLICABLE: NOT_APPLICABLE,
    nf: nf,
    pf: pf,
    el: el,
    pad2: pad2,
    longDate: longDate,
    thisYear: thisYear,
    valueState: valueState,
    valueNode: valueNode,
    periodLabel: periodLabel,
  };
})((window.ldaObservatory = window.ldaObservatory || {}));
