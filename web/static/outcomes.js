// /outcomes: the outcome cohorts of GET /v1/stats/outcomes (docs/outcomes.md). The user gives
// a token (kept in sessionStorage, this tab only, shared with /observatory); the page asks one
// question on the statistics grid — whole calendar years, all platforms or one AMI or one
// platform, cohorts by year or quarter — and draws the Kaplan–Meier curves of each cohort, the
// whole cohort's figures and tables. A value hidden by disclosure control (null) reads
// "secret statistique", never 0. Every request goes to this origin.
(function (O) {
  'use strict';

  var F = O.format;
  var el = F.el;
  var TOKEN_KEY = 'lda.observatory.token';
  var FIRST_YEAR = 2019;
  var COLOURS = ['#1d4f91', '#b3261e', '#2d6a4f', '#8a4f00', '#6b3fa0', '#00707a', '#4a4a4a', '#a0306b'];

  function $(id) {
    return document.getElementById(id);
  }

  var els = {
    tokenForm: $('token-form'), token: $('token'), tokenForget: $('token-forget'), tokenState: $('token-state'),
    filters: $('filters'), platform: $('platform'), platformOne: $('platform-one'), yearFrom: $('year-from'),
    yearTo: $('year-to'), granularity: $('granularity'), download: $('download'), error: $('error'),
    status: $('status'), results: $('results'), scope: $('scope'), headline: $('headline'),
    disclosure: $('disclosure-text'), cohorts: $('table-cohorts'), groups: $('table-groups'),
  };
  var state = { token: '', seq: 0, platforms: [] };
  var charts = {};

  function storage(value) {
    try {
      if (value === undefined) return window.sessionStorage.getItem(TOKEN_KEY) || '';
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage refused: the token lives in this page only */
    }
    return '';
  }

  function finished(outcome) {
    document.body.setAttribute('data-state', outcome);
    document.body.setAttribute('data-loads', String((parseInt(document.body.getAttribute('data-loads'), 10) || 0) + 1));
  }

  function showError(text) {
    els.error.textContent = '';
    els.error.hidden = !text;
    if (text) {
      els.error.appendChild(el('strong', { text: 'Erreur. ' }));
      els.error.appendChild(document.createTextNode(text));
    }
  }

  /** The question of the form, always on the grid: whole calendar years. */
  function question() {
    var a = parseInt(els.yearFrom.value, 10), b = parseInt(els.yearTo.value, 10);
    if (b < a) b = a;
    var p = new URLSearchParams();
    p.set('from', a + '-01-01');
    p.set('to', b + '-12-31');
    var where = els.platform.value, ami = /^ami:([12])$/.exec(where);
    if (ami) p.set('ami', ami[1]);
    else if (where !== 'all') p.set('platform', where);
    p.set('granularity', els.granularity.value);
    return p;
  }

  function request(query, accept) {
    var headers = { Accept: accept || 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    return fetch('/v1/stats/outcomes?' + query.toString(), { headers: headers, credentials: 'omit' }).then(function (res) {
      if (res.ok) return accept ? res.blob() : res.json();
      return res.json().then(
        function (p) {
          throw { status: res.status, problem: p };
        },
        function () {
          throw { status: res.status, problem: {} };
        }
      );
    });
  }

  function errorText(err) {
    if (!err || !err.status) return 'Le service ne répond pas.';
    if (err.status === 401) return 'Jeton absent, inconnu ou expiré : collez un jeton valide.';
    if (err.status === 403) return err.problem.detail || 'Ce jeton ne permet pas de lire ces statistiques.';
    if (err.status === 422) return err.problem.detail || 'Question refusée.';
    return 'Le service a répondu ' + err.status + (err.problem.detail ? ' : ' + err.problem.detail : '.');
  }

  // ---- formatting -------------------------------------------------------------------------

  function days(v) {
    if (v === null || v === undefined) return null;
    return v + ' j (' + Math.round(v / 7) + ' sem.)';
  }

  /** A value, or "secret statistique" (status A), or "non atteint" (a quartile not reached). */
  function cell(value, status, kind) {
    if (value === null || value === undefined) {
      if (status === 'P') return el('span', { className: 'not-applicable', text: 'non atteint' });
      return el('span', { className: 'secret', text: F.SECRET });
    }
    if (kind === 'days') return document.createTextNode(days(value));
    if (kind === 'share') return document.createTextNode(new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 0 }).format(value));
    return document.createTextNode(F.nf.format(value));
  }

  function share(list, months) {
    var s = (list || []).filter(function (x) {
      return x.months === months;
    })[0];
    return s ? cell(s.share, s.status, 'share') : cell(null, 'A');
  }

  function figure(label, hint, node, statusText) {
    return el('div', { className: 'figure' }, [
      el('dt', {}, [label, hint ? el('span', { className: 'figure__hint', text: hint }) : null]),
      el('dd', { className: 'figure__value' }, [node]),
      statusText ? el('dd', { className: 'figure__status help', text: statusText }) : null,
    ]);
  }

  // ---- rendering -------------------------------------------------------------------------

  function renderHeadline(doc) {
    var c = doc.cohort;
    els.headline.textContent = '';
    var h = c.time_to_housing, s = c.time_to_support;
    [
      figure('Saisines de la cohorte', c.status === 'E' ? 'chiffre officiel exact' : 'protégé', cell(c.referrals, c.status)),
      figure('Délai médian avant l\u2019accompagnement', 'quartiles : ' + (days(s.q1_days) || '—') + ' – ' + (days(s.q3_days) || '—'), cell(s.median_days, s.status.median_days, 'days')),
      figure('Délai médian avant le logement', 'quartiles : ' + (days(h.q1_days) || '—') + ' – ' + (days(h.q3_days) || '—'), cell(h.median_days, h.status.median_days, 'days')),
      figure('Logés dans les 12 mois', 'Kaplan–Meier ; en attente (censurés) : ' + (h.censored === null ? F.SECRET : F.nf.format(h.censored)), share(h.within, 12)),
      figure('Toujours logés 12 mois après', 'parmi ' + (c.retention.cases === null ? F.SECRET : F.nf.format(c.retention.cases)) + ' ménages logés', share(c.retention.still_housed, 12)),
      figure('Nouvelle saisine dans les 24 mois', 'après un accompagnement terminé dans le logement', share(c.returns.within, 24)),
    ].forEach(function (f) {
      els.headline.appendChild(f);
    });
  }

  function periodLabel(item) {
    var m = /^(\d{4})-Q(\d)$/.exec(item.period);
    return m ? 'T' + m[2] + ' ' + m[1] : item.period;
  }

  function renderCurves(doc, key, canvasId, tableId) {
    var table = $(tableId);
    table.textContent = '';
    var months = [];
    for (var i = 1; i <= 24; i++) months.push(i);
    var head = el('tr', {}, [el('th', { scope: 'col', text: 'Cohorte' })].concat(months.map(function (m) {
      return el('th', { scope: 'col', text: m + ' m' });
    })));
    table.appendChild(el('thead', {}, [head]));
    var body = el('tbody');
    var datasets = doc.by_cohort.map(function (item, k) {
      var pts = item[key].curve || [];
      body.appendChild(el('tr', {}, [el('th', { scope: 'row', text: periodLabel(item) })].concat(pts.map(function (p) {
        return el('td', {}, [cell(p.share, p.share === null ? 'A' : 'P', 'share')]);
      }))));
      return {
        label: periodLabel(item),
        data: pts.map(function (p) {
          return p.share === null ? null : Math.round(p.share * 100);
        }),
        borderColor: COLOURS[k % COLOURS.length],
        backgroundColor: COLOURS[k % COLOURS.length],
        stepped: true,
        spanGaps: false,
        pointRadius: 2,
      };
    });
    table.appendChild(body);
    if (typeof window.Chart !== 'function') return;
    if (charts[canvasId]) charts[canvasId].destroy();
    charts[canvasId] = new window.Chart($(canvasId), {
      type: 'line',
      data: { labels: months, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: 'mois depuis la saisine' } },
          y: { min: 0, max: 100, title: { display: true, text: '% de la cohorte' } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }

  var COLUMNS = [
    ['Saisines', function (g) { return cell(g.referrals, g.status); }],
    ['Délai médian accompagnement', function (g) { return cell(g.time_to_support.median_days, g.time_to_support.status.median_days, 'days'); }],
    ['Délai médian logement', function (g) { return cell(g.time_to_housing.median_days, g.time_to_housing.status.median_days, 'days'); }],
    ['Logés en 6 mois', function (g) { return share(g.time_to_housing.within, 6); }],
    ['Logés en 12 mois', function (g) { return share(g.time_to_housing.within, 12); }],
    ['En attente (censurés)', function (g) { return cell(g.time_to_housing.censored, g.time_to_housing.status.censored); }],
    ['Toujours logés à 12 mois', function (g) { return share(g.retention.still_housed, 12); }],
    ['Retour en 24 mois', function (g) { return share(g.returns.within, 24); }],
  ];

  function tableOf(table, sections) {
    table.textContent = '';
    table.appendChild(el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: '' })].concat(COLUMNS.map(function (c) {
      return el('th', { scope: 'col', text: c[0] });
    })))]));
    var body = el('tbody');
    sections.forEach(function (s) {
      if (s.title) body.appendChild(el('tr', { className: 'group-head' }, [el('th', { colspan: String(COLUMNS.length + 1), scope: 'colgroup', text: s.title })]));
      s.rows.forEach(function (r) {
        body.appendChild(el('tr', {}, [el('th', { scope: 'row', text: r.label })].concat(COLUMNS.map(function (c) {
          return el('td', {}, [c[1](r.group)]);
        }))));
      });
    });
    table.appendChild(body);
  }

  function render(doc) {
    var f = doc.filters;
    var where = f.platform ? 'plateforme ' + f.platform : f.ami ? 'AMI ' + f.ami : 'toutes les plateformes';
    els.scope.textContent = 'Saisines reçues du ' + F.longDate(f.from) + ' au ' + F.longDate(f.to) + ' · ' + where +
      ' · suivies jusqu\u2019au ' + F.longDate(doc.as_of);
    els.scope.setAttribute('data-as-of', doc.as_of);
    renderHeadline(doc);
    var d = doc.disclosure;
    els.disclosure.textContent = 'Les effectifs sont protégés (au plus ' + d.max_noise + ' d\u2019écart avec la valeur réelle) et masqués en dessous de ' +
      d.threshold + ' ; le nombre de saisines d\u2019années entières pour toutes les plateformes ou un AMI est exact. Les délais (arrondis à la semaine) et les parts (au pour cent) ne sont publiés que pour un groupe d\u2019au moins ' +
      2 * d.threshold + ' ménages, tant que ' + d.threshold + ' au moins restent observés.';
    renderCurves(doc, 'time_to_housing', 'chart-housing', 'table-housing');
    renderCurves(doc, 'time_to_support', 'chart-support', 'table-support');
    tableOf(els.cohorts, [{ rows: doc.by_cohort.map(function (g) {
      return { label: periodLabel(g), group: g };
    }) }]);
    var label = function (g) {
      return g.label_fr;
    };
    tableOf(els.groups, [
      { title: 'Première saisine ou retour', rows: doc.by_history.map(function (g) { return { label: label(g), group: g }; }) },
      { title: 'Jeunes', rows: [{ label: 'ENVAUL', group: doc.youth.envaul }, { label: '18 à 25 ans', group: doc.youth.age_18_25 }] },
      { title: 'Mesure d\u2019accompagnement (la dernière)', rows: doc.by_measure_kind.map(function (g) { return { label: label(g), group: g }; }) },
      { title: 'Composition du ménage', rows: doc.by_composition.map(function (g) { return { label: label(g), group: g }; }) },
    ]);
    els.results.hidden = false;
  }

  function load() {
    var seq = ++state.seq;
    showError('');
    if (!state.token) {
      els.status.textContent = 'Collez un jeton pour afficher les cohortes.';
      finished('no-token');
      return Promise.resolve();
    }
    els.status.textContent = 'Chargement…';
    return request(question()).then(
      function (doc) {
        if (seq !== state.seq) return;
        render(doc);
        els.status.textContent = '';
        finished('ok');
      },
      function (err) {
        if (seq !== state.seq) return;
        els.status.textContent = '';
        showError(errorText(err));
        finished('error');
      }
    );
  }

  function download() {
    var q = question();
    q.set('format', 'csv');
    request(q, 'text/csv').then(
      function (blob) {
        var a = el('a', { href: URL.createObjectURL(blob), download: 'resultats-cohortes.csv' });
        document.body.appendChild(a);
        a.click();
        a.remove();
      },
      function (err) {
        showError(errorText(err));
      }
    );
  }

  function years() {
    var last = new Date().getFullYear();
    [els.yearFrom, els.yearTo].forEach(function (s) {
      for (var y = FIRST_YEAR; y <= last; y++) s.appendChild(el('option', { value: String(y), text: String(y) }));
    });
    // the activity report's period by default
    els.yearFrom.value = String(FIRST_YEAR);
    els.yearTo.value = String(Math.min(2022, last));
  }

  function platforms() {
    return fetch('/v1/platforms', { headers: { Accept: 'application/json' }, credentials: 'omit' })
      .then(function (res) {
        return res.ok ? res.json() : { items: [] };
      })
      .then(function (body) {
        (body.items || []).forEach(function (p) {
          els.platformOne.appendChild(el('option', { value: p.code, text: p.name + ' (AMI ' + p.ami + ')' }));
        });
      }, function () {});
  }

  function init() {
    years();
    state.token = storage();
    els.tokenState.textContent = state.token ? 'Un jeton est utilisé dans cet onglet.' : '';
    els.tokenForm.addEventListener('submit', function (e) {
      e.preventDefault();
      state.token = els.token.value.trim();
      els.token.value = '';
      storage(state.token);
      els.tokenState.textContent = state.token ? 'Un jeton est utilisé dans cet onglet.' : '';
      load();
    });
    els.tokenForget.addEventListener('click', function () {
      state.token = '';
      storage('');
      els.tokenState.textContent = 'Jeton oublié.';
      els.results.hidden = true;
      load();
    });
    els.filters.addEventListener('submit', function (e) {
      e.preventDefault();
      load();
    });
    [els.platform, els.yearFrom, els.yearTo, els.granularity].forEach(function (s) {
      s.addEventListener('change', function () {
        if (+els.yearTo.value < +els.yearFrom.value) {
          if (s === els.yearTo) els.yearFrom.value = els.yearTo.value;
          else els.yearTo.value = els.yearFrom.value;
        }
        load();
      });
    });
    els.download.addEventListener('click', download);
    platforms().then(load);
  }

  init();
})((window.ldaObservatory = window.ldaObservatory || {}));
