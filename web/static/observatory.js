// /observatory: the youth observatory dashboard (GET /v1/observatory/youth and its series).
// The token lives in sessionStorage only (this tab); every request goes to this origin.
//
// The controls can only ask the questions the statistics answer (docs/statistics.md): a
// period of whole months (one month, one quarter, one calendar year or a range of calendar
// years, built from selects, never typed dates), all platforms or one AMI or one platform
// (one select), and one age band of the `age_band` vocabulary.
//
// Every figure shows how it is protected, from the answer's `disclosure` block and the cells'
// `status`: "exact" (an official figure), "protégé ±D" (cell-key method, within ±max_noise of
// the truth), or "secret statistique" when hidden (null in the API), never 0 — in the figures,
// the tables and the charts (a hidden bar or point is absent and labelled). A rate whose
// denominator is zero reads "sans objet".
(function () {
  'use strict';

  var TOKEN_KEY = 'lda.observatory.token';
  var SECRET = 'secret statistique';
  var NOT_APPLICABLE = 'sans objet';
  var FIRST_YEAR = 2019; // the default start of the statistics
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
  var COLORS = { requests: '#2d6a4f', youth: '#1d4f91', unmet: '#a3431f', need: '#1d4f91', situation: '#5b3f8c', secret: '#4a4a4a' };
  var MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  var QUARTERS = ['janvier à mars', 'avril à juin', 'juillet à septembre', 'octobre à décembre'];
  var GRANULARITY_RANK = { month: 0, quarter: 1, year: 2, years: 3 };

  var nf = new Intl.NumberFormat('fr-FR');
  var pf = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var df = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  var mf = new Intl.DateTimeFormat('fr-FR', { month: 'short', year: 'numeric', timeZone: 'UTC' });

  function $(id) {
    return document.getElementById(id);
  }

  var els = {
    tokenForm: $('token-form'),
    token: $('token'),
    tokenForget: $('token-forget'),
    tokenState: $('token-state'),
    filters: $('filters'),
    platform: $('platform'),
    platformOne: $('platform-one'),
    periodKind: $('period-kind'),
    month: $('month'),
    monthField: $('month-field'),
    quarter: $('quarter'),
    quarterField: $('quarter-field'),
    year: $('year'),
    yearLabel: $('year-label'),
    yearTo: $('year-to'),
    yearToField: $('year-to-field'),
    periodDates: $('period-dates'),
    ageBand: $('age_band'),
    granularity: $('granularity'),
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
    charts: {},
    debounce: null,
    platforms: [], // [{code, name, ami}] from GET /v1/platforms
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

  /** How a figure is published: 'E' exact, 'P' protected (cell-key method), 'A' hidden. */
  function figureStatus(value, key, exact, denominator) {
    var s = valueState(value, denominator);
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

  function publicGet(path) {
    return fetch(path, { headers: { Accept: 'application/json' }, credentials: 'omit' }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    });
  }

  // ---- the question: period, platforms, age band ------------------------------------------

  /** The first and last day of a grid period (kind month | quarter | year | years). */
  function gridPeriod(kind, year, month, quarter, yearTo) {
    var first = 1;
    var last = 12;
    var endYear = year;
    if (kind === 'month') {
      first = month;
      last = month;
    } else if (kind === 'quarter') {
      first = 3 * quarter - 2;
      last = 3 * quarter;
    } else if (kind === 'years') {
      endYear = Math.max(year, yearTo);
    }
    var lastDay = new Date(Date.UTC(endYear, last, 0)).getUTCDate();
    return { from: year + '-' + pad2(first) + '-01', to: endYear + '-' + pad2(last) + '-' + pad2(lastDay) };
  }

  function fillYears(select, years, keep) {
    var current = keep || select.value;
    select.textContent = '';
    years.forEach(function (y) {
      select.appendChild(el('option', { value: String(y), text: String(y) }));
    });
    if (current && years.indexOf(+current) >= 0) select.value = current;
  }

  /** The years offered: from the first year with data (at most FIRST_YEAR) to this year. */
  function setYearRange(firstYear) {
    var years = [];
    for (var y = Math.min(firstYear, FIRST_YEAR); y <= thisYear(); y++) years.push(y);
    fillYears(els.year, years);
    fillYears(els.yearTo, years);
  }

  /** Shows the selects of the period kind, keeps year-to >= year, offers the granularities that fit. */
  function syncPeriodControls(changed) {
    var kind = els.periodKind.value;
    els.monthField.hidden = kind !== 'month';
    els.quarterField.hidden = kind !== 'quarter';
    els.yearToField.hidden = kind !== 'years';
    els.yearLabel.textContent = kind === 'years' ? "de l'année" : 'année';
    if (kind === 'years' && changed === els.periodKind) {
      // From the first year offered to the year that was chosen (as the report's "2019-2022").
      var chosen = els.year.value;
      els.year.value = els.year.options.length ? els.year.options[0].value : chosen;
      els.yearTo.value = chosen;
    } else if (kind === 'years' && +els.yearTo.value < +els.year.value) {
      if (changed === els.yearTo) els.year.value = els.yearTo.value;
      else els.yearTo.value = els.year.value;
    }
    // A trend finer than or as long as the period: a month has one point a month.
    var rank = GRANULARITY_RANK[kind];
    var options = els.granularity.options;
    for (var i = 0; i < options.length; i++) options[i].disabled = GRANULARITY_RANK[options[i].value] > rank;
    if (els.granularity.selectedOptions[0] && els.granularity.selectedOptions[0].disabled) els.granularity.value = 'month';
    var p = readFilters();
    els.periodDates.textContent = 'Du ' + longDate(p.from) + ' au ' + longDate(p.to) + '.';
    els.periodDates.setAttribute('data-from', p.from);
    els.periodDates.setAttribute('data-to', p.to);
  }

  function setPeriod(kind, year, extra) {
    els.periodKind.value = kind;
    els.year.value = String(year);
    if (kind === 'month') els.month.value = String(extra);
    if (kind === 'quarter') els.quarter.value = String(extra);
    if (kind === 'years') els.yearTo.value = String(extra);
    syncPeriodControls();
  }

  function readFilters() {
    var kind = els.periodKind.value;
    var year = parseInt(els.year.value, 10) || thisYear() - 1;
    var p = gridPeriod(kind, year, +els.month.value, +els.quarter.value, parseInt(els.yearTo.value, 10) || year);
    var where = els.platform.value;
    var ami = /^ami:([12])$/.exec(where);
    return {
      kind: kind,
      from: p.from,
      to: p.to,
      platform: where !== 'all' && !ami ? where : null,
      ami: ami ? +ami[1] : null,
      ageBand: els.ageBand.value || 'age_18_25',
      granularity: els.granularity.value,
    };
  }

  /** The query string of a question: platform and ami never together, platform at most once. */
  function query(f, extra) {
    var p = new URLSearchParams();
    p.set('from', f.from);
    p.set('to', f.to);
    if (f.platform) p.set('platform', f.platform);
    else if (f.ami) p.set('ami', String(f.ami));
    p.set('age_band', f.ageBand);
    Object.keys(extra || {}).forEach(function (k) {
      p.set(k, extra[k]);
    });
    return p.toString();
  }

  function platformName(code) {
    for (var i = 0; i < state.platforms.length; i++) if (state.platforms[i].code === code) return state.platforms[i].name;
    return code;
  }

  function amiNames(ami) {
    return state.platforms
      .filter(function (p) {
        return p.ami === ami;
      })
      .map(function (p) {
        return p.name;
      });
  }

  function loadPlatforms() {
    return publicGet('/v1/platforms')
      .then(function (body) {
        state.platforms = body.items || [];
        state.platforms.forEach(function (p) {
          els.platformOne.appendChild(el('option', { value: p.code, text: p.name + (p.ami ? ' (AMI ' + p.ami + ')' : '') }));
        });
        [1, 2].forEach(function (ami) {
          var names = amiNames(ami);
          var option = els.platform.querySelector('option[value="ami:' + ami + '"]');
          if (option && names.length) option.textContent = 'AMI ' + ami + ' (' + names.join(', ') + ')';
        });
      })
      .catch(function () {
        showError("La liste des plateformes n'a pas pu être chargée (GET /v1/platforms) : seuls « Toutes les plateformes » et les AMI sont proposés.");
      });
  }

  function loadAgeBands() {
    return publicGet('/v1/vocabularies')
      .then(function (body) {
        var bands = body.age_band || [];
        if (!bands.length) return;
        var current = els.ageBand.value;
        els.ageBand.textContent = '';
        bands.forEach(function (b) {
          els.ageBand.appendChild(el('option', { value: b.code, text: b.label_fr }));
        });
        els.ageBand.value = current;
      })
      .catch(function () {
        /* the default band (18 to 25) stays the only choice */
      });
  }

  function ageBandLabel(code) {
    var o = els.ageBand.querySelector('option[value="' + code + '"]');
    return o ? o.textContent : code;
  }

  /**
   * The yearly series over every year up to this one: offers the years that have data, and
   * chooses the last full calendar year that has SIAO requests as the default period.
   */
  function resolveDefaultPeriod() {
    var f = readFilters();
    var ask = { from: '2000-01-01', to: thisYear() + '-12-31', platform: f.platform, ami: f.ami, ageBand: f.ageBand };
    return apiGet('/v1/observatory/youth/series?' + query(ask, { granularity: 'year' })).then(function (body) {
      state.defaultsResolved = true;
      var first = null;
      var best = null;
      (body.items || []).forEach(function (item) {
        var y = parseInt(item.period, 10);
        if (item.requests_total === 0) return;
        if (first === null) first = y;
        if (y < thisYear()) best = y;
      });
      setYearRange(first === null ? FIRST_YEAR : first);
      if (!state.periodTouched && best !== null) setPeriod('year', best);
      else syncPeriodControls();
    });
  }

  // ---- rendering -------------------------------------------------------------------------

  function scopeText(filters) {
    var f = filters;
    var when;
    var from = f.from.split('-');
    if (f.period === 'month') when = MONTHS[+from[1] - 1] + ' ' + from[0];
    else if (f.period === 'quarter') when = Math.ceil(+from[1] / 3) + (from[1] === '01' ? 'er' : 'e') + ' trimestre ' + from[0] + ' (' + QUARTERS[Math.floor((+from[1] - 1) / 3)] + ')';
    else if (f.period === 'year') when = 'année ' + from[0];
    else when = 'années ' + from[0] + ' à ' + f.to.slice(0, 4);
    var where;
    if (f.platform) where = 'plateforme ' + platformName(f.platform);
    else if (f.ami) where = 'AMI ' + f.ami + (amiNames(f.ami).length ? ' (' + amiNames(f.ami).join(', ') + ')' : '');
    else if (state.platforms.length && f.platforms.length === state.platforms.length) where = 'toutes les plateformes';
    else where = (f.platforms.length > 1 ? 'plateformes ' : 'plateforme ') + f.platforms.map(platformName).join(', ');
    return when.charAt(0).toUpperCase() + when.slice(1) + ' · ' + where + ' · jeunes de ' + ageBandLabel(f.age_band);
  }

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
    els.scope.textContent = scopeText(doc.filters);
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

  // Draws "secret statistique" where a bar is hidden, and "s" under a hidden point of a line.
  var secretPlugin = {
    id: 'ldaSecret',
    afterDatasetsDraw: function (chart) {
      var hidden = chart.options.plugins.ldaSecret ? chart.options.plugins.ldaSecret.hidden : [];
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = COLORS.secret;
      ctx.textBaseline = 'middle';
      var horizontal = chart.options.indexAxis === 'y';
      for (var i = 0; i < hidden.length; i++) {
        if (!hidden[i]) continue;
        if (horizontal) {
          ctx.font = 'italic 12px system-ui, sans-serif';
          ctx.textAlign = 'left';
          ctx.fillText(SECRET, area.left + 6, chart.scales.y.getPixelForValue(i));
        } else {
          ctx.font = 'italic bold 12px system-ui, sans-serif';
          ctx.textAlign = 'center';
          ctx.fillText('s', chart.scales.x.getPixelForValue(i), area.bottom - 10);
        }
      }
      ctx.restore();
    },
  };

  function replaceChart(name, canvasId, config) {
    if (state.charts[name]) {
      state.charts[name].destroy();
      delete state.charts[name];
    }
    if (typeof window.Chart !== 'function') return;
    config.plugins = [secretPlugin];
    state.charts[name] = new window.Chart($(canvasId), config);
  }

  /**
   * A line of one figure of the series: exact points as diamonds, protected ones as dots,
   * hidden ones absent (null) and marked "s". Returns the labels and a note naming the
   * hidden periods.
   */
  function trendChart(name, canvasId, items, fig, color, granularity) {
    var labels = items.map(function (it) {
      return periodLabel(it, granularity);
    });
    var states = items.map(function (it) {
      return valueState(it[fig.key], fig.over ? it[fig.over] : undefined);
    });
    var share = fig.kind === 'share';
    var values = items.map(function (it) {
      var v = it[fig.key];
      if (v === null || v === undefined) return null;
      return share ? Math.round(v * 1000) / 10 : v;
    });
    var exact = items.map(function (it) {
      return it.exact.indexOf(fig.key) >= 0;
    });
    var small = items.length > 40;
    replaceChart(name, canvasId, {
      type: 'line',
      data: {
        labels: labels,
        datasets: [
          {
            label: fig.label,
            data: values,
            borderColor: color,
            backgroundColor: color,
            pointStyle: exact.map(function (e) {
              return e ? 'rectRot' : 'circle';
            }),
            pointRadius: exact.map(function (e) {
              return e ? 6 : small ? 0 : 3;
            }),
            pointHoverRadius: 6,
            borderWidth: 2,
            spanGaps: false,
            tension: 0.15,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          y: {
            beginAtZero: true,
            suggestedMax: share ? 50 : undefined,
            ticks: {
              precision: share ? undefined : 0,
              callback: function (v) {
                return nf.format(v) + (share ? ' %' : '');
              },
            },
            grid: { color: '#e3e7ed' },
          },
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        },
        plugins: {
          legend: { display: false },
          ldaSecret: {
            hidden: states.map(function (s) {
              return s === 'hidden';
            }),
          },
          tooltip: {
            callbacks: {
              label: function (c) {
                var s = states[c.dataIndex];
                if (s !== 'value') return s === 'hidden' ? SECRET : NOT_APPLICABLE;
                var text = fig.label + ' : ' + (share ? pf.format(c.raw / 100) : nf.format(c.raw));
                return text + (exact[c.dataIndex] ? ' (exact)' : ' (protégé)');
              },
            },
          },
        },
      },
    });
    var hiddenLabels = labels.filter(function (l, i) {
      return states[i] === 'hidden';
    });
    return {
      labels: labels,
      note: hiddenLabels.length ? 's = secret statistique (point absent de la courbe) : ' + hiddenLabels.join(', ') + '.' : '',
    };
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
    var r = trendChart('youthRequests', 'chart-youth-requests', items, figureOf('youth_requests'), COLORS.requests, g);
    $('note-youth-requests').textContent = r.note;
    table(
      'table-youth-requests',
      ['Période', 'Demandes', 'Demandes des jeunes', 'Jeunes distincts', 'Protection'],
      items.map(function (it, i) {
        return [r.labels[i], cell(it, 'requests_total'), cell(it, 'youth_requests'), cell(it, 'youth_persons'), itemProtection(it, noise)];
      })
    );
    var a = trendChart('youthShare', 'chart-youth-share', items, figureOf('youth_share'), COLORS.youth, g);
    $('note-youth-share').textContent = a.note;
    table(
      'table-youth-share',
      ['Période', 'Demandes', 'Demandes des jeunes', 'Part des jeunes', 'Protection'],
      items.map(function (it, i) {
        return [a.labels[i], cell(it, 'requests_total'), cell(it, 'youth_requests'), cell(it, 'youth_share'), itemProtection(it, noise)];
      })
    );
    var b = trendChart('unmet', 'chart-unmet', items, figureOf('unmet_rate'), COLORS.unmet, g);
    $('note-unmet').textContent = b.note;
    table(
      'table-unmet',
      ['Période', 'Demandes des jeunes', 'Part sans place disponible', 'Part sans autre solution', 'Protection'],
      items.map(function (it, i) {
        return [b.labels[i], cell(it, 'youth_requests'), cell(it, 'unmet_rate'), cell(it, 'no_alternative_share'), itemProtection(it, noise)];
      })
    );
  }

  /** A long category name on several lines (Chart.js draws an array label line by line). */
  function wrapLabel(text, max) {
    var lines = [];
    var line = '';
    text.split(/\s+/).forEach(function (word) {
      if (line && (line + ' ' + word).length > max) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + ' ' + word : word;
      }
    });
    if (line) lines.push(line);
    return lines.length > 1 ? lines : text;
  }

  var CELL_STATUS = { E: 'exact', P: 'protégé', A: 'masqué' };

  function breakdownChart(name, canvasId, tableId, cells, color, noise) {
    var labels = cells.map(function (c) {
      return wrapLabel(c.label_fr, 24);
    });
    var values = cells.map(function (c) {
      return c.count === null || c.count === undefined ? null : c.count;
    });
    // Room for every category name (some take several lines): no label is ever skipped.
    var rows = labels.reduce(function (sum, l) {
      return sum + Math.max(30, (Array.isArray(l) ? l.length : 1) * 15 + 14);
    }, 0);
    $(canvasId).parentNode.style.height = Math.max(240, rows + 40) + 'px';
    var anyBar = values.some(function (v) {
      return v !== null && v > 0;
    });
    replaceChart(name, canvasId, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [{ label: 'Demandes des jeunes', data: values, backgroundColor: color, borderRadius: 3, maxBarThickness: 26 }],
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {
            beginAtZero: true,
            suggestedMax: anyBar ? undefined : 10,
            grid: { color: '#e3e7ed' },
            ticks: {
              precision: 0,
              callback: function (v) {
                return nf.format(v);
              },
            },
          },
          y: { grid: { display: false }, ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: false },
          ldaSecret: {
            hidden: values.map(function (v) {
              return v === null;
            }),
          },
          tooltip: {
            callbacks: {
              label: function (c) {
                var cell = cells[c.dataIndex];
                if (c.raw === null) return SECRET;
                return nf.format(c.raw) + ' demandes' + (cell.share === null || cell.share === undefined ? '' : ' (' + pf.format(cell.share) + ')') +
                  (cell.status === 'E' ? ', exact' : ', protégé ±' + noise);
              },
            },
          },
        },
      },
    });
    table(
      tableId,
      ['Catégorie', 'Demandes des jeunes', 'Part des demandes des jeunes', 'Protection'],
      cells.map(function (c) {
        return [c.label_fr, valueNode(c.count, 'count'), valueNode(c.share, 'share'), CELL_STATUS[c.status] || c.status];
      })
    );
  }

  function render(doc, series, f) {
    els.leadAges.textContent = ageBandLabel(doc.filters.age_band);
    els.results.hidden = false;
    renderHeadline(doc);
    renderDisclosure(doc);
    renderTrends(series, f);
    var noise = doc.disclosure.max_noise;
    breakdownChart('need', 'chart-need', 'table-need', doc.by_need || [], COLORS.need, noise);
    breakdownChart('situation', 'chart-situation', 'table-situation', doc.by_situation || [], COLORS.situation, noise);
    if (typeof window.Chart !== 'function') {
      showError("Les graphiques ne sont pas disponibles sur ce serveur (Chart.js n'est pas installé : scripts/web-deps.sh). Les chiffres et les tableaux restent justes.");
    }
  }

  function clearResults() {
    Object.keys(state.charts).forEach(function (k) {
      state.charts[k].destroy();
    });
    state.charts = {};
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
    var f = readFilters();
    var my = ++state.seq;
    document.body.setAttribute('data-state', 'loading');
    showError('');
    setStatus('Chargement…');
    els.results.setAttribute('aria-busy', 'true');
    return Promise.all([
      apiGet('/v1/observatory/youth?' + query(f)),
      apiGet('/v1/observatory/youth/series?' + query(f, { granularity: f.granularity })),
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
    var f = readFilters();
    var where = f.platform ? '_' + f.platform : f.ami ? '_ami' + f.ami : '';
    var name = 'observatoire-jeunes_' + f.from + '_' + f.to + where + '_' + f.ageBand + '.csv';
    showError('');
    setStatus('Préparation du fichier CSV…');
    els.download.disabled = true;
    apiGet('/v1/observatory/youth?' + query(f, { format: 'csv' }), 'text/csv')
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
    setYearRange(FIRST_YEAR);
    setPeriod('year', Math.max(FIRST_YEAR, thisYear() - 1));
    if (window.Chart) {
      window.Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
      window.Chart.defaults.color = '#1b1b1b';
    }

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
    [els.periodKind, els.year, els.yearTo, els.month, els.quarter].forEach(function (select) {
      select.addEventListener('change', function () {
        state.periodTouched = true;
        syncPeriodControls(select);
      });
    });
    els.filters.addEventListener('change', function () {
      if (state.token) scheduleLoad();
    });
    els.download.addEventListener('click', download);

    Promise.all([loadPlatforms(), loadAgeBands()]).then(start);
  }

  init();
})();
