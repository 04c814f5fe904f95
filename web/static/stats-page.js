// /prevention and /housing: what both dashboards share (window.ldaObservatory.page). The token
// lives in sessionStorage only (this tab; the same key as /observatory, so it follows the user
// from one dashboard to the other); every request goes to this origin. The question comes from
// observatory-question.js (grid questions only: a period of whole months, all platforms or one
// AMI or one platform). Every figure shows how it is published, from the answer's `disclosure`
// block and the cells' `status`: "protégé ±D" (cell-key method) or "secret statistique" when
// hidden (null in the API), never 0.
//
//   ldaObservatory.page.start({ endpoint, csvName, yearsOf, render })
//     endpoint   the statistics route ('/v1/stats/prevention')
//     csvName    the downloaded file's prefix
//     yearsOf    doc -> the by_year cells (to choose the default year: the last full one with data)
//     render     (doc) -> void, draws the results (the page shows #results first)
(function (O) {
  'use strict';

  var F = O.format;
  var Q = O.question;
  var C = O.charts;
  var el = F.el;
  var TOKEN_KEY = 'lda.observatory.token';

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
    scope: $('scope'),
    disclosureNoise: $('disclosure-noise'),
    disclosureBadge: $('disclosure-badge'),
    disclosureThreshold: $('disclosure-threshold'),
  };
  var state = { token: '', periodTouched: false, defaultsResolved: false, seq: 0, debounce: null };
  var page = null;

  function storage(value) {
    try {
      if (value === undefined) return window.sessionStorage.getItem(TOKEN_KEY) || '';
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage refused: the token then lives in this page only */
    }
    return '';
  }

  // ---- status, badges, tables ---------------------------------------------------------------

  /** How a value is published: 'P' protected, 'A' hidden, 'na' a rate over a zero. */
  function statusOf(value, denominator) {
    var s = F.valueState(value, denominator);
    return s === 'hidden' ? 'A' : s === 'na' ? 'na' : 'P';
  }

  function badge(status, noise, what) {
    if (status === 'P') {
      return el('span', { className: 'badge badge--protected', text: what || 'protégé ±' + noise,
        title: what ? 'Publié arrondi, sur assez de dossiers' : 'Protégé par la méthode des clés de cellule : au plus ' + noise + ' d\u2019écart avec la valeur réelle' });
    }
    if (status === 'A') return el('span', { className: 'badge badge--hidden', text: 'masqué' });
    return el('span', { className: 'badge badge--na', text: 'sans objet' });
  }

  /**
   * A headline card into `dl`: key, label, hint, the value, its kind ('count', 'share' or
   * 'value' — a rounded figure that is not a count), its denominator (rates), the noise.
   */
  function figure(dl, f, noise) {
    var status = statusOf(f.value, f.over);
    var shown = F.valueNode(f.value, f.kind === 'share' ? 'share' : 'count', f.over);
    var dt = el('dt', null, [f.label, f.hint ? el('span', { className: 'figure__hint', text: f.hint }) : null]);
    var dd = el('dd', { className: 'figure__value' }, [shown, f.unit && status === 'P' ? ' ' + f.unit : null]);
    var mark = el('dd', { className: 'figure__status' }, [status === 'A' ? null : badge(status, noise, f.kind === 'value' ? 'arrondi' : null)]);
    var card = el('div', { className: 'figure figure--' + status, 'data-key': f.key, 'data-status': status }, [dt, dd, mark]);
    if (status === 'A') card.setAttribute('data-secret', 'true');
    dl.appendChild(card);
  }

  /** A table: head (strings), rows (cells: strings or nodes); the first column is a row header. */
  function table(id, head, rows) {
    var t = $(id);
    t.textContent = '';
    var tr = el('tr');
    head.forEach(function (h, i) {
      tr.appendChild(el('th', { scope: 'col', className: i ? 'num' : '', text: h }));
    });
    t.appendChild(el('thead', null, [tr]));
    var body = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (cell, i) {
        var node = i === 0 ? el('th', { scope: 'row' }) : el('td', { className: 'num' });
        node.appendChild(typeof cell === 'string' ? document.createTextNode(cell) : cell);
        row.appendChild(node);
      });
      body.appendChild(row);
    });
    t.appendChild(body);
  }

  /** A breakdown: its bar chart and its table (count, share, how it is published). */
  function breakdown(name, cells, color, noise, unit, legend) {
    C.breakdown(name, 'chart-' + name, cells, color, noise, unit, legend);
    table('table-' + name, ['Catégorie', legend, 'Part', 'Protection'], cells.map(function (c) {
      return [c.label_fr, F.valueNode(c.count, 'count'), F.valueNode(c.share, 'share'), { E: 'exact', P: 'protégé', A: 'masqué' }[c.status] || c.status];
    }));
  }

  /** The disclosure block: how this answer is protected, and how many values are hidden. */
  function disclosure(doc, hidden) {
    var d = doc.disclosure;
    els.disclosureBadge.textContent = 'protégé ±' + d.max_noise;
    els.disclosureNoise.textContent = 'Aucun chiffre officiel exact ici : chaque effectif est protégé par la méthode des clés de cellule et peut ' +
      "s'écarter de la valeur réelle de " + d.max_noise + ' au plus, toujours du même écart pour les mêmes dossiers : ' +
      "répéter ou croiser les questions n'apprend rien de plus. Les parts sont calculées sur les chiffres publiés ; " +
      'les médianes, quartiles et taux ne sont publiés que sur assez de dossiers, arrondis.';
    els.disclosureThreshold.textContent = 'un effectif de 1 à ' + (d.threshold - 1) + ' est masqué, ainsi que ce qui ' +
      'permettrait de le retrouver par différence (dans un tableau croisé, par ligne et par colonne). Un zéro est toujours publié. ' +
      'Sur cette sélection : ' + (hidden ? hidden + ' valeur' + (hidden > 1 ? 's masquées.' : ' masquée.') : 'aucune valeur masquée.');
  }

  // ---- the API ----------------------------------------------------------------------------

  function ApiError(status, problem, network) {
    this.status = status;
    this.problem = problem || {};
    this.network = !!network;
  }

  function errorText(err) {
    if (!(err instanceof ApiError)) return 'Erreur inattendue dans la page : ' + (err && err.message ? err.message : String(err));
    if (err.network) return "Le service ne répond pas (erreur réseau). Vérifiez qu'il tourne et que la connexion fonctionne, puis réessayez.";
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

  // ---- loads --------------------------------------------------------------------------------

  function finished(outcome) {
    document.body.setAttribute('data-state', outcome);
    document.body.setAttribute('data-loads', String((parseInt(document.body.getAttribute('data-loads'), 10) || 0) + 1));
  }

  function showError(text) {
    els.error.textContent = '';
    els.error.hidden = !text;
    if (!text) return;
    els.error.appendChild(el('strong', { text: 'Erreur. ' }));
    els.error.appendChild(document.createTextNode(text));
  }

  function fail(err) {
    els.results.setAttribute('aria-busy', 'false');
    C.clear();
    els.results.hidden = true;
    els.status.textContent = '';
    showError(errorText(err));
    finished('error');
  }

  /** Every year to this one (a range of years): offers the years with data, and chooses the last
   * full calendar year with data as the default period. */
  function resolveDefaultPeriod() {
    var f = Q.read();
    var ask = { from: Q.FIRST_YEAR + '-01-01', to: F.thisYear() + '-12-31', platform: f.platform, ami: f.ami };
    return apiGet(page.endpoint + '?' + Q.query(ask)).then(function (doc) {
      state.defaultsResolved = true;
      var best = null;
      page.yearsOf(doc).forEach(function (c) {
        var y = parseInt(c.code, 10);
        if (c.count !== 0 && y < F.thisYear()) best = y;
      });
      if (!state.periodTouched && best !== null) Q.setPeriod('year', best);
      else Q.sync();
    });
  }

  function load() {
    if (state.debounce) clearTimeout(state.debounce);
    state.debounce = null;
    if (!state.token) {
      showError('');
      els.status.textContent = "Collez un jeton d'accès dans « Accès » pour afficher les statistiques.";
      return Promise.resolve();
    }
    var f = Q.read();
    var my = ++state.seq;
    document.body.setAttribute('data-state', 'loading');
    showError('');
    els.status.textContent = 'Chargement…';
    els.results.setAttribute('aria-busy', 'true');
    return apiGet(page.endpoint + '?' + Q.query(f)).then(
      function (doc) {
        if (my !== state.seq) return;
        els.results.hidden = false;
        els.scope.textContent = Q.describe(doc.filters);
        page.render(doc);
        if (!C.available()) {
          showError("Les graphiques ne sont pas disponibles sur ce serveur (Chart.js n'est pas installé : scripts/web-deps.sh). Les chiffres et les tableaux restent justes.");
        }
        els.results.setAttribute('aria-busy', 'false');
        els.status.textContent = 'Statistiques à jour.';
        finished('ready');
      },
      function (err) {
        if (my === state.seq) fail(err);
      }
    );
  }

  function start() {
    if (!state.token) return load();
    var my = ++state.seq;
    document.body.setAttribute('data-state', 'loading');
    var first = state.defaultsResolved ? Promise.resolve() : resolveDefaultPeriod();
    return first.then(
      function () {
        if (my === state.seq) return load();
      },
      function (err) {
        if (my === state.seq) fail(err);
      }
    );
  }

  function useToken(value) {
    state.token = value.trim();
    storage(state.token);
    els.tokenState.textContent = state.token ? 'Jeton en place pour cet onglet.' : 'Aucun jeton : collez-en un pour afficher les statistiques.';
  }

  function download() {
    if (!state.token) {
      showError("Collez d'abord un jeton d'accès dans « Accès ».");
      return;
    }
    var f = Q.read();
    var name = page.csvName + '_' + f.from + '_' + f.to + (f.platform ? '_' + f.platform : f.ami ? '_ami' + f.ami : '') + '.csv';
    showError('');
    els.status.textContent = 'Préparation du fichier CSV…';
    els.download.disabled = true;
    apiGet(page.endpoint + '?' + Q.query(f, { format: 'csv' }), 'text/csv')
      .then(
        function (text) {
          var url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
          var a = el('a', { href: url, download: name, className: 'visually-hidden' });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () {
            URL.revokeObjectURL(url);
          }, 10000);
          els.status.textContent = 'Fichier « ' + name + ' » téléchargé.';
        },
        function (err) {
          els.status.textContent = '';
          showError(errorText(err));
        }
      )
      .then(function () {
        els.download.disabled = false;
      });
  }

  function startPage(p) {
    page = p;
    Q.setYearRange(Q.FIRST_YEAR);
    Q.setPeriod('year', Math.max(Q.FIRST_YEAR, F.thisYear() - 1));
    var saved = storage();
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
      C.clear();
      els.results.hidden = true;
      showError('');
      els.status.textContent = "Jeton oublié. Collez un jeton d'accès pour afficher les statistiques.";
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
      if (!state.token) return;
      if (state.debounce) clearTimeout(state.debounce);
      state.debounce = setTimeout(load, 300);
    });
    els.download.addEventListener('click', download);
    Q.loadPlatforms().then(function (problem) {
      if (problem) showError(problem);
      return start();
    });
  }

  O.page = { start: startPage, figure: figure, table: table, breakdown: breakdown, disclosure: disclosure, statusOf: statusOf, $: $ };
})((window.ldaObservatory = window.ldaObservatory || {}));
