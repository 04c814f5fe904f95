// /observatory: the youth observatory dashboard (GET /v1/observatory/youth and its series).
// The token lives in sessionStorage only (this tab); every request goes to this origin.
//
// The question comes from observatory-question.js (grid questions only), the charts from
// observatory-charts.js, the formats from observatory-format.js. Every figure shows how it is
// published, from the answer's `disclosure` block and the cells' `status`: "exact" (an official
// figure), "protégé ±D" (cell-key method, within ±max_noise of the truth), or "secret
// statistique" when hidden (null in the API), never 0 — in the figures, the tables and the
// charts. A rate whose denominator is zero reads "sans objet".
(function (O) {
  'use strict';

  var F = O.format;
  var Q = O.question;
  var C = O.charts;
  var el = F.el;
  var valueNode = F.valueNode;
  var TOKEN_KEY = 'lda.observatory.token';
  var FIGURES = [
    { key: 'requests_total', label: 'Demandes', hint: 'tous âges confondus', kind: 'count' },
    { key: 'youth_requests', label: 'Demandes des jeunes', kind: 'count' },
    { key: 'youth_share', label: 'Part des jeunes', hint: 'dans les demandes', kind: 'share', over: 'requests_total' },
    { key: 'youth_persons', label: 'Jeunes distincts', hint: 'personnes différentes', kind: 'count' },
    { key: 'repeat_persons', label: 'Jeunes revenus 2 fois ou plus', hint: 'au moins deux demandes', kind: 'count' },
    { key: 'unmet_rate', label: 'Part sans place disponible', hint: 'des demandes des jeunes', kind: 'share', over: 'youth_requests' },
    { key: 'no_alternative_share', label: 'Part sans autre solution', hint: 'parmi les réponses connues', kind: 'share', over: 'youth_requests' },
  ];
  var FIGURE_NAMES = {};
  FIGURES.forEach(function (f) {
    FIGURE_NAMES[f.key] = f.label.toLowerCase();
  });

  var BREAKDOWNS = ['by_sex', 'by_age', 'by_situation', 'by_need', 'by_response', 'by_channel', 'by_platform'];
  var COLORS = { requests: '#2d6a4f', youth: '#1d4f91', unmet: '#a3431f', need: '#1d4f91', situation: '#5b3f8c' };
  var CELL_STATUS = { E: 'exact', P: 'protégé', A: 'masqué' };

  function $(id) {
    return document.getElementById(id);
  }

  var els = {
    tokenForm: $('token-form'),
    token: $('token'),
    tokenForget: $('token-forget'),
    tokenState: $('token-state'),
    filters: $('filters'),
    download: $('download'),
    error: $('error'),
    status: $('status'),
    results: $('results'),
    headline: $('headline'),
    scope: $('scope'),
    disclosureExact: $('disclosure-exact'),
    disclosureBadge: $('disclosure-badge'),
    disclosureNoise: $('disclosure-noise'),
    disclosureThreshold: $('disclosure-threshold'),
    disclosureNote: $('disclosure-note'),
    leadAges: $('lead-ages'),
  };

  var state = {
    token: '',
    periodTouched: false,
    defaultsResolved: false,
    seq: 0,
    debounce: null,
  };

  // ---- small helpers ---------------------------------------------------------------------

  function storageGet() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  function storageSet(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage refused: the token then lives in this page only */
    }
  }

  /** How a figure is published: 'E' exact, 'P' protected (cell-key method), 'A' hidden. */
  function figureStatus(value, key, exact, denominator) {
    var s = F.valueState(value, denominator);
    if (s === 'hidden') return 'A';
    if (s === 'na') return 'na';
    return exact.indexOf(key) >= 0 ? 'E' : 'P';
  }

  function badgeNode(status, noise) {
    if (status === 'E') return el('span', { className: 'badge badge--exact', text: 'exact', title: 'Chiffre officiel, exact' });
    if (status === 'P') {
      return el('span', {
        className: 'badge badge--protected',
        text: 'protégé ±' + noise,
        title: 'Protégé par la méthode des clés de cellule : au plus ' + noise + ' d\u2019écart avec la valeur réelle',
      });
    }
    if (status === 'A') return el('span', { className: 'badge badge--hidden', text: 'masqué' });
    return el('span', { className: 'badge badge--na', text: 'sans objet' });
  }

  /** Marks the end of a load on <body> (data-state, data-loads): for scripts that drive the page. */
  function finished(outcome) {
    var body = document.body;
    body.setAttribute('data-state', outcome);
    body.setAttribute('data-loads', String((parseInt(body.getAttribute('data-loads'), 10) || 0) + 1));
  }

  function setStatus(text) {
    els.status.textContent = text || '';
  }

  function showError(text) {
    els.error.textContent = '';
    if (!text) {
      els.error.hidden = true;
      return;
    }
    els.error.appendChild(el('strong', { text: 'Erreur. ' }));
    els.error.appendChild(document.createTextNode(text));
    els.error.hidden = false;
  }

  // ---- the API ---------------------------------------------------------------------------

  function ApiError(status, problem, network) {
    this.status = status;
    this.problem = problem || {};
    this.network = !!network;
  }

  function errorText(err) {
    if (!(err instanceof ApiError)) return 'Erreur inattendue dans la page : ' + (err && err.message ? err.message : String(err));
    if (err.network) {
      return "Le service ne répond pas (erreur réseau). Vérifiez qu'il tourne et que la connexion fonctionne, puis réessayez.";
    }
    var detail = err.problem.detail ? ' Détail du service : « ' + err.problem.detail + ' »' : '';
    switch (err.status) {
      case 401:
        return "Jeton refusé (401) : il est inconnu, expiré ou révoqué. Collez un jeton valide dans « Accès ».";
      case 403:
        return "Accès refusé (403) : ce jeton ne donne pas accès à ces statistiques (il faut un jeton analyste, " +
          'coordinateur ou administrateur, et des plateformes de son périmètre : choisissez-en une).' + detail;
      case 422: {
        var list = (err.problem.errors || []).map(function (e) {
          return (e.field ? e.field + ' : ' : '') + e.message;
        });
        return 'Question refusée par le service (422)' + (list.length ? ' : ' + list.join(' ; ') : '.');
      }
      case 429:
        return 'Trop de requêtes (429) : patientez quelques secondes, puis réessayez.';
      case 503:
        return 'Service momentanément indisponible (503) : réessayez dans un instant.' + detail;
      default:
        return 'Le service a répondu ' + err.status + (err.problem.title ? ' (' + err.problem.title + ')' : '') + '.' + detail;
    }
  }

  function apiGet(path, accept) {
    var headers = { Accept: accept || 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit', redirect: 'error' }).then(
      function (res) {
        if (res.ok) return accept === 'text/csv' ? res.text() : res.json();
        return res.text().then(function (text) {
          var problem = {};
          try {
            problem = JSON.parse(text);
          } catch (e) {
            /* not a problem document */
          }
          throw new ApiError(res.status, problem, false);
        });
      },
      function () {
        throw new ApiError(0, null, true);
      }
    );
  }

  // ---- the default period ------------------------------------------------------------------

  /**
   * The yearly series over every year up to this one: offers the years that have data, and
   * chooses the last full calendar year that has SIAO requests as the default period.
   */
  function resolveDefaultPeriod() {
    var f = Q.read();
    var ask = { from: '2000-01-01', to: F.thisYear() + '-12-31', platform: f.platform, ami: f.ami, ageBand: f.ageBand };
    return apiGet('/v1/observatory/youth/series?' + Q.query(ask, { granularity: 'year' })).then(function (body) {
      state.defaultsResolved = true;
      var first = null;
      var best = null;
      (body.items || []).forEach(function (item) {
        var y = parseInt(item.period, 10);
        if (item.requests_total === 0) return;
        if (first === null) first = y;
        if (y < F.thisYear()) best = y;
      });
      Q.setYearRange(first === null ? Q.FIRST_YEAR : first);
      if (!state.periodTouched && best !== null) Q.setPeriod('year', best);
      else Q.sync();
    });
  }

  // ---- rendering -------------------------------------------------------------------------

  function renderHeadline(doc) {
    var d = doc.disclosure;
    els.headline.textContent = '';
    FIGURES.forEach(function (fig) {
      var v = doc[fig.key];
      var over = fig.over ? doc[fig.over] : undefined;
      var status = figureStatus(v, fig.key, d.exact, over);
      var dt = el('dt', null, [fig.label, fig.hint ? el('span', { className: 'figure__hint', text: fig.hint }) : null]);
      var dd = el('dd', { className: 'figure__value' }, [valueNode(v, fig.kind, over)]);
      var mark = el('dd', { className: 'figure__status' }, [status === 'A' ? null : badgeNode(status, d.max_noise)]);
      var card = el('div', { className: 'figure figure--' + status, 'data-key': fig.key, 'data-status': status }, [dt, dd, mark]);
      if (status === 'A') card.setAttribute('data-secret', 'true');
      els.headline.appendChild(card);
    });
    els.scope.textContent = Q.describe(doc.filters);
  }

  function renderDisclosure(doc) {
    var d = doc.disclosure;
    var exact = d.exact.map(function (k) {
      return FIGURE_NAMES[k] || k;
    });
    els.disclosureExact.textContent = exact.length
      ? 'Exacts sur cette sélection : ' + exact.join(', ') + '. Ce sont les chiffres officiels, publiés tels quels pour une ou plusieurs années civiles, toutes plateformes ou un AMI.'
      : "Aucun chiffre exact sur cette sélection : seuls les totaux d'une ou plusieurs années civiles, pour toutes les plateformes ou un AMI, sont publiés exacts.";
    els.disclosureBadge.textContent = 'protégé ±' + d.max_noise;
    els.disclosureNoise.textContent = 'Les autres effectifs sont protégés par la méthode des clés de cellule : chacun peut ' +
      "s'écarter de la valeur réelle de " + d.max_noise + ' au plus, toujours du même écart pour les mêmes demandes : ' +
      "répéter ou croiser les questions n'apprend rien de plus. Les parts sont calculées sur les chiffres publiés.";
    var hidden = 0;
    FIGURES.forEach(function (fig) {
      if (figureStatus(doc[fig.key], fig.key, d.exact, fig.over ? doc[fig.over] : undefined) === 'A') hidden++;
    });
    BREAKDOWNS.forEach(function (b) {
      (doc[b] || []).forEach(function (c) {
        if (c.status === 'A') hidden++;
      });
    });
    els.disclosureThreshold.textContent = 'un effectif de 1 à ' + (d.threshold - 1) + ' est masqué, ainsi que ce qui ' +
      'permettrait de le retrouver par différence. Un zéro est toujours publié. Sur cette sélection : ' +
      (hidden ? hidden + ' valeur' + (hidden > 1 ? 's masquées' : ' masquée') : 'aucune valeur masquée') +
      ' (chiffres clés et répartitions).';
    els.disclosureNote.textContent = "Chaque chiffre protégé porte son propre écart : les parties ne s'additionnent pas " +
      'exactement à leur total, ni les mois à leur année. Pour une année, lisez le chiffre de l’année.';
  }

  function table(id, head, rows) {
    var t = $(id);
    t.textContent = '';
    var tr = el('tr');
    head.forEach(function (h, i) {
      tr.appendChild(el('th', { scope: 'col', className: i && i < head.length - 1 ? 'num' : '', text: h }));
    });
    t.appendChild(el('thead', null, [tr]));
    var body = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (cell, i) {
        var node = i === 0 ? el('th', { scope: 'row' }) : el('td', { className: i < r.length - 1 ? 'num' : 'status-cell' });
        node.appendChild(typeof cell === 'string' ? document.createTextNode(cell) : cell);
        row.appendChild(node);
      });
      body.appendChild(row);
    });
    t.appendChild(body);
  }

  function figureOf(key) {
    for (var i = 0; i < FIGURES.length; i++) if (FIGURES[i].key === key) return FIGURES[i];
    return null;
  }

  /** How a series item is published, in words: its exact figures, or "protégés ±D". */
  function itemProtection(item, noise) {
    if (!item.exact.length) return 'protégés ±' + noise;
    return (
      'exacts : ' +
      item.exact
        .map(function (k) {
          return FIGURE_NAMES[k] || k;
        })
        .join(', ')
    );
  }

  function renderTrends(series, f) {
    var items = series.items || [];
    var g = series.granularity || f.granularity;
    var noise = series.disclosure.max_noise;
    var cell = function (it, key) {
      var fig = figureOf(key);
      return valueNode(it[key], fig.kind, fig.over ? it[fig.over] : undefined);
    };
    var r = C.trend('youthRequests', 'chart-youth-requests', items, figureOf('youth_requests'), COLORS.requests, g);
    $('note-youth-requests').textContent = r.note;
    table(
      'table-youth-requests',
      ['Période', 'Demandes', 'Demandes des jeunes', 'Jeunes distincts', 'Protection'],
      items.map(function (it, i) {
        return [r.labels[i], cell(it, 'requests_total'), cell(it, 'youth_requests'), cell(it, 'youth_persons'), itemProtection(it, noise)];
      })
    );
    var a = C.trend('youthShare', 'chart-youth-share', items, figureOf('youth_share'), COLORS.youth, g);
    $('note-youth-share').textContent = a.note;
    table(
      'table-youth-share',
      ['Période', 'Demandes', 'Demandes des jeunes', 'Part des jeunes', 'Protection'],
      items.map(function (it, i) {
        return [a.labels[i], cell(it, 'requests_total'), cell(it, 'youth_requests'), cell(it, 'youth_share'), itemProtection(it, noise)];
      })
    );
    var b = C.trend('unmet', 'chart-unmet', items, figureOf('unmet_rate'), COLORS.unmet, g);
    $('note-unmet').textContent = b.note;
    table(
      'table-unmet',
      ['Période', 'Demandes des jeunes', 'Part sans place disponible', 'Part sans autre solution', 'Protection'],
      items.map(function (it, i) {
        return [b.labels[i], cell(it, 'youth_requests'), cell(it, 'unmet_rate'), cell(it, 'no_alternative_share'), itemProtection(it, noise)];
      })
    );
  }

  /** A breakdown: its chart and its table (value, share and how each cell is published). */
  function renderBreakdown(name, cells, color, noise) {
    C.breakdown(name, 'chart-' + name, cells, color, noise);
    table(
      'table-' + name,
      ['Catégorie', 'Demandes des jeunes', 'Part des demandes des jeunes', 'Protection'],
      cells.map(function (c) {
        return [c.label_fr, valueNode(c.count, 'count'), valueNode(c.share, 'share'), CELL_STATUS[c.status] || c.status];
      })
    );
  }

  function render(doc, series, f) {
    els.leadAges.textContent = Q.ageBandLabel(doc.filters.age_band);
    els.results.hidden = false;
    renderHeadline(doc);
    renderDisclosure(doc);
    renderTrends(series, f);
    var noise = doc.disclosure.max_noise;
    renderBreakdown('need', doc.by_need || [], COLORS.need, noise);
    renderBreakdown('situation', doc.by_situation || [], COLORS.situation, noise);
    if (!C.available()) {
      showError("Les graphiques ne sont pas disponibles sur ce serveur (Chart.js n'est pas installé : scripts/web-deps.sh). Les chiffres et les tableaux restent justes.");
    }
  }

  function clearResults() {
    C.clear();
    els.results.hidden = true;
  }

  // ---- actions ---------------------------------------------------------------------------

  function load() {
    if (state.debounce) {
      clearTimeout(state.debounce);
      state.debounce = null;
    }
    if (!state.token) {
      showError('');
      setStatus("Collez un jeton d'accès dans « Accès » pour afficher les statistiques.");
      return Promise.resolve();
    }
    var f = Q.read();
    var my = ++state.seq;
    document.body.setAttribute('data-state', 'loading');
    showError('');
    setStatus('Chargement…');
    els.results.setAttribute('aria-busy', 'true');
    return Promise.all([
      apiGet('/v1/observatory/youth?' + Q.query(f)),
      apiGet('/v1/observatory/youth/series?' + Q.query(f, { granularity: f.granularity })),
    ]).then(
      function (r) {
        if (my !== state.seq) return;
        render(r[0], r[1], f);
        els.results.setAttribute('aria-busy', 'false');
        setStatus('Statistiques à jour.');
        finished('ready');
      },
      function (err) {
        if (my !== state.seq) return;
        els.results.setAttribute('aria-busy', 'false');
        clearResults();
        setStatus('');
        showError(errorText(err));
        finished('error');
      }
    );
  }

  function scheduleLoad() {
    if (state.debounce) clearTimeout(state.debounce);
    state.debounce = setTimeout(load, 300);
  }

  function start() {
    if (!state.token) return load();
    var first = state.defaultsResolved ? Promise.resolve() : resolveDefaultPeriod();
    document.body.setAttribute('data-state', 'loading');
    var my = ++state.seq;
    return first.then(
      function () {
        if (my === state.seq) return load();
      },
      function (err) {
        if (my !== state.seq) return;
        clearResults();
        setStatus('');
        showError(errorText(err));
        finished('error');
      }
    );
  }

  function useToken(value) {
    state.token = value.trim();
    storageSet(state.token);
    els.tokenState.textContent = state.token
      ? 'Jeton en place pour cet onglet.'
      : "Aucun jeton : collez-en un pour afficher les statistiques.";
  }

  function download() {
    if (!state.token) {
      showError("Collez d'abord un jeton d'accès dans « Accès ».");
      return;
    }
    var f = Q.read();
    var where = f.platform ? '_' + f.platform : f.ami ? '_ami' + f.ami : '';
    var name = 'observatoire-jeunes_' + f.from + '_' + f.to + where + '_' + f.ageBand + '.csv';
    showError('');
    setStatus('Préparation du fichier CSV…');
    els.download.disabled = true;
    apiGet('/v1/observatory/youth?' + Q.query(f, { format: 'csv' }), 'text/csv')
      .then(
        function (text) {
          var blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
          var url = URL.createObjectURL(blob);
          var a = el('a', { href: url, download: name, className: 'visually-hidden' });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () {
            URL.revokeObjectURL(url);
          }, 10000);
          setStatus('Fichier « ' + name + ' » téléchargé.');
        },
        function (err) {
          setStatus('');
          showError(errorText(err));
        }
      )
      .then(function () {
        els.download.disabled = false;
      });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function init() {
    Q.setYearRange(Q.FIRST_YEAR);
    Q.setPeriod('year', Math.max(Q.FIRST_YEAR, F.thisYear() - 1));

    var saved = storageGet();
    if (saved) els.token.value = saved;
    useToken(saved);

    els.tokenForm.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!els.token.value.trim()) {
        els.token.setAttribute('aria-invalid', 'true');
        showError("Le champ du jeton est vide : collez un jeton d'accès.");
        els.token.focus();
        return;
      }
      els.token.removeAttribute('aria-invalid');
      useToken(els.token.value);
      state.defaultsResolved = false;
      start();
    });
    els.tokenForget.addEventListener('click', function () {
      els.token.value = '';
      useToken('');
      state.seq++;
      clearResults();
      showError('');
      setStatus("Jeton oublié. Collez un jeton d'accès pour afficher les statistiques.");
      els.token.focus();
    });
    els.filters.addEventListener('submit', function (e) {
      e.preventDefault();
      load();
    });
    Q.periodSelects.forEach(function (select) {
      select.addEventListener('change', function () {
        state.periodTouched = true;
        Q.sync(select);
      });
    });
    els.filters.addEventListener('change', function () {
      if (state.token) scheduleLoad();
    });
    els.download.addEventListener('click', download);

    Promise.all([Q.loadPlatforms(), Q.loadAgeBands()]).then(function (r) {
      if (r[0]) showError(r[0]);
      return start();
    });
  }

  init();
})((window.ldaObservatory = window.ldaObservatory || {}));
