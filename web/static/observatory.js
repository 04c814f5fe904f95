// /observatory: the youth observatory dashboard (GET /v1/observatory/youth and its series).
// The token lives in sessionStorage only (this tab); every request goes to this origin.
// Values hidden by statistical disclosure control (null in the API) are shown as
// "secret statistique", never as 0: in the figures, the tables and the charts (a hidden bar
// is absent and labelled).
(function () {
  'use strict';

  var TOKEN_KEY = 'lda.observatory.token';
  var SECRET = 'secret statistique';
  var FIGURES = [
    { key: 'requests_total', label: 'Demandes', hint: 'tous âges confondus', kind: 'count' },
    { key: 'youth_requests', label: 'Demandes des jeunes', kind: 'count' },
    { key: 'youth_share', label: 'Part des jeunes', hint: 'dans les demandes', kind: 'share' },
    { key: 'youth_persons', label: 'Jeunes distincts', hint: 'personnes différentes', kind: 'count' },
    { key: 'repeat_persons', label: 'Jeunes revenus 2 fois ou plus', hint: 'au moins deux demandes', kind: 'count' },
    { key: 'unmet_rate', label: 'Part sans place disponible', hint: 'des demandes des jeunes', kind: 'share' },
    { key: 'no_alternative_share', label: 'Part sans autre solution', hint: 'parmi les réponses connues', kind: 'share' },
  ];
  var COLORS = { youth: '#1d4f91', unmet: '#a3431f', need: '#1d4f91', situation: '#5b3f8c', secret: '#4a4a4a' };

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
    from: $('from'),
    to: $('to'),
    ageMin: $('age_min'),
    ageMax: $('age_max'),
    granularity: $('granularity'),
    download: $('download'),
    error: $('error'),
    status: $('status'),
    results: $('results'),
    headline: $('headline'),
    scope: $('scope'),
    thresholdMax: $('threshold-max'),
    suppressionCount: $('suppression-count'),
    leadAges: $('lead-ages'),
  };

  var state = {
    token: '',
    datesTouched: false,
    defaultsResolved: false,
    seq: 0,
    charts: {},
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

  function secretNode() {
    return el('span', { className: 'secret', text: SECRET });
  }

  /** A count or a share as a node: "secret statistique" when the API hid it (null). */
  function valueNode(value, kind) {
    if (value === null || value === undefined) return secretNode();
    return document.createTextNode(kind === 'share' ? pf.format(value) : nf.format(value));
  }

  function isoDate(d) {
    return d.toISOString().slice(0, 10);
  }

  function longDate(iso) {
    var p = iso.split('-');
    return df.format(new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])));
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
          'coordinateur ou administrateur, et une plateforme de son périmètre).' + detail;
      case 422: {
        var list = (err.problem.errors || []).map(function (e) {
          return (e.field ? e.field + ' : ' : '') + e.message;
        });
        return 'Filtres refusés par le service (422)' + (list.length ? ' : ' + list.join(' ; ') : '.');
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

  // ---- filters ---------------------------------------------------------------------------

  function readFilters() {
    var f = {
      platform: els.platform.value,
      from: els.from.value,
      to: els.to.value,
      ageMin: els.ageMin.value.trim(),
      ageMax: els.ageMax.value.trim(),
      granularity: els.granularity.value,
    };
    var problems = [];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.from)) problems.push('la date de début est manquante ou invalide');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.to)) problems.push('la date de fin est manquante ou invalide');
    if (!problems.length && f.from > f.to) problems.push('la date de fin est avant la date de début');
    var a = /^\d{1,3}$/.test(f.ageMin) ? +f.ageMin : NaN;
    var b = /^\d{1,3}$/.test(f.ageMax) ? +f.ageMax : NaN;
    if (!(a >= 0 && a <= 120) || !(b >= 0 && b <= 120)) problems.push("l'âge doit être un nombre entier de 0 à 120");
    else if (a > b) problems.push("l'âge minimum dépasse l'âge maximum");
    [els.from, els.to, els.ageMin, els.ageMax].forEach(function (input) {
      input.removeAttribute('aria-invalid');
    });
    if (problems.length) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(f.from) || f.from > f.to) els.from.setAttribute('aria-invalid', 'true');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(f.to) || f.from > f.to) els.to.setAttribute('aria-invalid', 'true');
      if (!(a >= 0 && a <= 120) || a > b) els.ageMin.setAttribute('aria-invalid', 'true');
      if (!(b >= 0 && b <= 120) || a > b) els.ageMax.setAttribute('aria-invalid', 'true');
      f.problems = problems;
    }
    return f;
  }

  function query(f, extra) {
    var p = new URLSearchParams();
    p.set('from', f.from);
    p.set('to', f.to);
    if (f.platform && f.platform !== 'tous') p.append('platform', f.platform);
    p.set('age_min', f.ageMin);
    p.set('age_max', f.ageMax);
    Object.keys(extra || {}).forEach(function (k) {
      p.set(k, extra[k]);
    });
    return p.toString();
  }

  function platformName(code) {
    for (var i = 0; i < els.platform.options.length; i++) {
      if (els.platform.options[i].value === code) return els.platform.options[i].textContent;
    }
    return code;
  }

  function loadPlatforms() {
    return fetch('/v1/platforms', { headers: { Accept: 'application/json' }, credentials: 'omit' })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.json();
      })
      .then(function (body) {
        (body.items || []).forEach(function (p) {
          var o = el('option', { value: p.code, text: p.name + (p.ami ? ' (AMI ' + p.ami + ')' : '') });
          els.platform.appendChild(o);
        });
      })
      .catch(function () {
        showError("La liste des plateformes n'a pas pu être chargée (GET /v1/platforms) : seul « Toutes les plateformes » est proposé.");
      });
  }

  /** The last full calendar year that has SIAO requests (from the yearly series), if any. */
  function resolveDefaultPeriod() {
    var thisYear = new Date().getFullYear();
    var to = isoDate(new Date());
    return apiGet('/v1/observatory/youth/series?' + new URLSearchParams({ granularity: 'year', from: '2000-01-01', to: to }).toString())
      .then(function (body) {
        state.defaultsResolved = true;
        if (state.datesTouched) return;
        var best = null;
        (body.items || []).forEach(function (item) {
          var y = parseInt(item.period, 10);
          if (y < thisYear && item.requests_total !== 0) best = y;
        });
        if (best !== null) {
          els.from.value = best + '-01-01';
          els.to.value = best + '-12-31';
        }
      });
  }

  // ---- rendering -------------------------------------------------------------------------

  function renderHeadline(doc, f) {
    els.headline.textContent = '';
    FIGURES.forEach(function (fig) {
      var v = doc[fig.key];
      var hidden = v === null || v === undefined;
      var dt = el('dt', null, [fig.label, fig.hint ? el('span', { className: 'figure__hint', text: fig.hint }) : null]);
      var dd = el('dd', { className: 'figure__value' }, [valueNode(v, fig.kind)]);
      var card = el('div', { className: 'figure' + (hidden ? ' figure--secret' : ''), 'data-key': fig.key }, [dt, dd]);
      if (hidden) card.setAttribute('data-secret', 'true');
      els.headline.appendChild(card);
    });
    var s = doc.suppression || {};
    els.thresholdMax.textContent = String((s.threshold || 11) - 1);
    var masked = (s.primary || 0) + (s.secondary || 0);
    els.suppressionCount.textContent = masked
      ? 'Sur cette sélection : ' + masked + ' valeur' + (masked > 1 ? 's' : '') + ' masquée' + (masked > 1 ? 's' : '') +
        ' (' + (s.primary || 0) + ' par le seuil, ' + (s.secondary || 0) + ' pour empêcher un calcul par différence).'
      : 'Sur cette sélection, aucune valeur n\'est masquée.';
    var where = f.platform === 'tous' ? 'toutes les plateformes' : 'plateforme ' + platformName(f.platform);
    els.scope.textContent = 'Du ' + longDate(f.from) + ' au ' + longDate(f.to) + ' · ' + where + ' · jeunes de ' +
      f.ageMin + ' à ' + f.ageMax + ' ans';
  }

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

  // Draws "secret statistique" where a bar is hidden, and "s" under a hidden point of a line.
  var secretPlugin = {
    id: 'ldaSecret',
    afterDatasetsDraw: function (chart) {
      var data = chart.data.datasets[0] ? chart.data.datasets[0].data : [];
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = COLORS.secret;
      ctx.textBaseline = 'middle';
      var horizontal = chart.options.indexAxis === 'y';
      for (var i = 0; i < data.length; i++) {
        if (data[i] !== null) continue;
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

  function trendChart(name, canvasId, items, key, label, color, granularity) {
    var labels = items.map(function (it) {
      return periodLabel(it, granularity);
    });
    var values = items.map(function (it) {
      var v = it[key];
      return v === null || v === undefined ? null : Math.round(v * 1000) / 10;
    });
    replaceChart(name, canvasId, {
      type: 'line',
      data: {
        labels: labels,
        datasets: [
          {
            label: label,
            data: values,
            borderColor: color,
            backgroundColor: color,
            pointRadius: items.length > 40 ? 0 : 3,
            pointHoverRadius: 5,
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
            suggestedMax: 50,
            ticks: {
              callback: function (v) {
                return nf.format(v) + ' %';
              },
            },
            grid: { color: '#e3e7ed' },
          },
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                return c.raw === null ? SECRET : label + ' : ' + pf.format(c.raw / 100);
              },
            },
          },
        },
      },
    });
    var hidden = items.filter(function (it) {
      return it[key] === null || it[key] === undefined;
    });
    return {
      labels: labels,
      note: hidden.length
        ? 's = secret statistique (point absent de la courbe) : ' +
          hidden
            .map(function (it) {
              return periodLabel(it, granularity);
            })
            .join(', ') + '.'
        : '',
    };
  }

  function renderTrends(series, f) {
    var items = series.items || [];
    var g = series.granularity || f.granularity;
    var a = trendChart('youthShare', 'chart-youth-share', items, 'youth_share', 'Part des jeunes', COLORS.youth, g);
    $('note-youth-share').textContent = a.note;
    table(
      'table-youth-share',
      ['Période', 'Demandes', 'Demandes des jeunes', 'Part des jeunes'],
      items.map(function (it, i) {
        return [a.labels[i], valueNode(it.requests_total, 'count'), valueNode(it.youth_requests, 'count'), valueNode(it.youth_share, 'share')];
      })
    );
    var b = trendChart('unmet', 'chart-unmet', items, 'unmet_rate', 'Part sans place disponible', COLORS.unmet, g);
    $('note-unmet').textContent = b.note;
    table(
      'table-unmet',
      ['Période', 'Demandes des jeunes', 'Part sans place disponible', 'Part sans autre solution'],
      items.map(function (it, i) {
        return [b.labels[i], valueNode(it.youth_requests, 'count'), valueNode(it.unmet_rate, 'share'), valueNode(it.no_alternative_share, 'share')];
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

  function breakdownChart(name, canvasId, tableId, cells, color) {
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
          tooltip: {
            callbacks: {
              label: function (c) {
                var cell = cells[c.dataIndex];
                if (c.raw === null) return SECRET;
                return nf.format(c.raw) + ' demandes' + (cell.share === null || cell.share === undefined ? '' : ' (' + pf.format(cell.share) + ')');
              },
            },
          },
        },
      },
    });
    table(
      tableId,
      ['Catégorie', 'Demandes des jeunes', 'Part des demandes des jeunes'],
      cells.map(function (c) {
        return [c.label_fr, valueNode(c.count, 'count'), valueNode(c.share, 'share')];
      })
    );
  }

  function render(doc, series, f) {
    els.leadAges.textContent = f.ageMin + ' à ' + f.ageMax + ' ans';
    els.results.hidden = false;
    renderHeadline(doc, f);
    renderTrends(series, f);
    breakdownChart('need', 'chart-need', 'table-need', doc.by_need || [], COLORS.need);
    breakdownChart('situation', 'chart-situation', 'table-situation', doc.by_situation || [], COLORS.situation);
    if (typeof window.Chart !== 'function') {
      showError("Les graphiques ne sont pas disponibles sur ce serveur (Chart.js n'est pas installé : scripts/web-deps.sh). Les chiffres et les tableaux restent exacts.");
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
    if (f.problems) {
      showError('Filtres incomplets : ' + f.problems.join(' ; ') + '.');
      setStatus('');
      finished('error');
      return Promise.resolve();
    }
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
    if (f.problems) {
      showError('Filtres incomplets : ' + f.problems.join(' ; ') + '.');
      return;
    }
    var name = 'observatoire-jeunes_' + f.from + '_' + f.to + (f.platform !== 'tous' ? '_' + f.platform : '') +
      '_' + f.ageMin + '-' + f.ageMax + 'ans.csv';
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
    var lastYear = new Date().getFullYear() - 1;
    els.from.value = lastYear + '-01-01';
    els.to.value = lastYear + '-12-31';
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
    [els.from, els.to].forEach(function (input) {
      input.addEventListener('input', function () {
        state.datesTouched = true;
      });
    });
    els.filters.addEventListener('change', function () {
      if (state.token) scheduleLoad();
    });
    els.download.addEventListener('click', download);

    loadPlatforms().then(start);
  }

  init();
})();
