// /prevention: the dashboard of eviction prevention (GET /v1/stats/prevention), drawn with the
// helpers of stats-page.js. The cohort of a period is the cases whose first action is in it;
// their situation 6, 12 and 24 months later is a stacked bar per horizon and a table, and the
// crossed table chosen by the user (situation by first action, platform, stage or debt band).
// A hidden value reads "secret statistique", never 0.
(function (O) {
  'use strict';

  var F = O.format;
  var P = O.page;
  var C = O.charts;
  var el = F.el;
  var $ = P.$;
  var COLORS = {
    firstAction: '#1d4f91',
    entryStage: '#5b3f8c',
    debtBand: '#a3431f',
    actions: '#2d6a4f',
    situations: {
      maintained: '#2d6a4f',
      rehoused: '#1d4f91',
      evicted: '#a3431f',
      left_without_solution: '#c98a1a',
      procedure_pending: '#6c7a89',
      unknown: '#9aa5b1',
      not_recorded: '#c7ced6',
      not_due: '#e3e7ed',
    },
  };
  var last = null; // the answer shown, for the crossed table's selects

  function hiddenCount(doc) {
    var n = 0;
    var cells = function (arr) {
      (arr || []).forEach(function (c) {
        if (c.status === 'A') n++;
      });
    };
    ['by_year', 'by_first_action', 'by_platform', 'by_entry_stage', 'by_debt_band', 'actions_by_kind', 'cases_by_action_kind'].forEach(function (k) {
      cells(doc[k]);
    });
    doc.follow_up.forEach(function (h) {
      cells(h.situations);
      ['by_first_action', 'by_platform', 'by_entry_stage', 'by_debt_band'].forEach(function (k) {
        h[k].forEach(function (row) {
          cells(row.situations);
        });
      });
    });
    ['cases', 'actions', 'cases_with_action'].forEach(function (k) {
      if (doc[k] === null) n++;
    });
    return n;
  }

  function renderHeadline(doc) {
    var dl = $('headline');
    var noise = doc.disclosure.max_noise;
    var d = doc.debt_eur;
    dl.textContent = '';
    P.figure(dl, { key: 'cases', label: 'Ménages de la cohorte', hint: 'première action dans la période', value: doc.cases, kind: 'count' }, noise);
    P.figure(dl, {
      key: 'debt_median', label: 'Dette locative médiane',
      hint: d.q1 === null ? 'connue pour trop peu de ménages' : 'la moitié des dettes entre ' + F.nf.format(d.q1) + ' et ' + F.nf.format(d.q3) + ' €',
      value: d.median, kind: 'value', unit: '€',
    }, noise);
    P.figure(dl, { key: 'actions', label: 'Actions réalisées', hint: 'dans la période', value: doc.actions, kind: 'count' }, noise);
    P.figure(dl, { key: 'cases_with_action', label: 'Ménages concernés', hint: 'par une action dans la période', value: doc.cases_with_action, kind: 'count' }, noise);
  }

  /** The situations at 6, 12 and 24 months: one stacked bar per horizon, and a table. */
  function renderFollowUp(doc) {
    var horizons = doc.follow_up;
    var codes = horizons[0].situations;
    var labels = horizons.map(function (h) {
      return h.at_months + ' mois';
    });
    var hidden = [];
    var datasets = codes.map(function (c, i) {
      return {
        label: c.label_fr,
        data: horizons.map(function (h) {
          var v = h.situations[i].count;
          if (v === null) hidden.push(h.at_months + ' mois : ' + c.label_fr);
          return v;
        }),
        backgroundColor: COLORS.situations[c.code] || '#888',
        maxBarThickness: 42,
      };
    });
    C.replace('followUp', 'chart-follow-up', {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
        plugins: { legend: { position: 'bottom' }, ldaSecret: { hidden: [] } },
      },
    });
    $('note-follow-up').textContent = hidden.length ? 'Secret statistique (absent des barres) : ' + hidden.join(' ; ') + '.' : '';
    P.table('table-follow-up', ['Situation'].concat(labels), codes.map(function (c, i) {
      return [c.label_fr].concat(horizons.map(function (h) {
        var cell = h.situations[i];
        return el('span', null, [F.valueNode(cell.count, 'count'), cell.share === null ? null : ' (' + F.pf.format(cell.share) + ')']);
      }));
    }));
  }

  /** The crossed table chosen: rows (the breakdown's codes and their cases) by situation. */
  function renderCross() {
    if (!last) return;
    var by = $('cross-by').value;
    var at = +$('cross-at').value;
    var h = last.follow_up.filter(function (x) {
      return x.at_months === at;
    })[0];
    var rows = h[by];
    var codes = h.situations;
    P.table('table-cross', ['', 'Ménages'].concat(codes.map(function (c) {
      return c.label_fr;
    })), rows.map(function (row) {
      return [row.label_fr, F.valueNode(row.cases, 'count')].concat(row.situations.map(function (c) {
        return F.valueNode(c.count, 'count');
      }));
    }));
    $('table-cross').setAttribute('data-by', by);
    $('table-cross').setAttribute('data-at', String(at));
  }

  function renderActions(doc) {
    var noise = doc.disclosure.max_noise;
    C.breakdown('actions', 'chart-actions', doc.actions_by_kind, COLORS.actions, noise, 'actions', 'Actions');
    P.table('table-actions', ['Type', 'Actions', 'Part des actions', 'Ménages concernés'], doc.actions_by_kind.map(function (c, i) {
      var cases = doc.cases_by_action_kind[i];
      return [c.label_fr, F.valueNode(c.count, 'count'), F.valueNode(c.share, 'share'), F.valueNode(cases.count, 'count')];
    }));
  }

  function render(doc) {
    last = doc;
    var noise = doc.disclosure.max_noise;
    renderHeadline(doc);
    P.disclosure(doc, hiddenCount(doc));
    P.breakdown('first-action', doc.by_first_action, COLORS.firstAction, noise, 'ménages', 'Ménages');
    P.breakdown('entry-stage', doc.by_entry_stage, COLORS.entryStage, noise, 'ménages', 'Ménages');
    P.breakdown('debt-band', doc.by_debt_band, COLORS.debtBand, noise, 'ménages', 'Ménages');
    renderFollowUp(doc);
    renderCross();
    renderActions(doc);
  }

  $('cross-form').addEventListener('submit', function (e) {
    e.preventDefault();
  });
  $('cross-form').addEventListener('change', function (e) {
    e.stopPropagation();
    renderCross();
  });

  P.start({
    endpoint: '/v1/stats/prevention',
    csvName: 'prevention',
    yearsOf: function (doc) {
      return doc.by_year;
    },
    render: render,
  });
})((window.ldaObservatory = window.ldaObservatory || {}));
