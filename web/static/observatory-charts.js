// /observatory: the charts (Chart.js, served locally from web/vendor/), for
// observatory.js (window.ldaObservatory.charts). A hidden value (null in the API) is a missing
// bar or point, labelled "secret statistique" (bars) or "s" (points), never drawn as 0; the
// exact points of a trend (official yearly figures) are diamonds, the protected ones dots.
(function (O) {
  'use strict';

  var F = O.format;
  var SECRET = F.SECRET;
  var NOT_APPLICABLE = F.NOT_APPLICABLE;
  var nf = F.nf;
  var pf = F.pf;
  var COLOR_SECRET = '#4a4a4a';
  var charts = {}; // name -> Chart

  function $(id) {
    return document.getElementById(id);
  }

  // Draws "secret statistique" where a bar is hidden, and "s" under a hidden point of a line.
  var secretPlugin = {
    id: 'ldaSecret',
    afterDatasetsDraw: function (chart) {
      var hidden = chart.options.plugins.ldaSecret ? chart.options.plugins.ldaSecret.hidden : [];
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = COLOR_SECRET;
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
    if (charts[name]) {
      charts[name].destroy();
      delete charts[name];
    }
    if (typeof window.Chart !== 'function') return;
    config.plugins = [secretPlugin];
    charts[name] = new window.Chart($(canvasId), config);
  }

  /**
   * A line of one figure of the series: exact points as diamonds, protected ones as dots,
   * hidden ones absent (null) and marked "s". Returns the labels and a note naming the

   */
  function trendChart(name, canvasId, items, fig, color, granularity) {
    var labels = items.map(function (it) {
      return F.periodLabel(it, granularity);
    });
    var states = items.map(function (it) {
      return F.valueState(it[fig.key], fig.over ? it[fig.over] : undefined);
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

  /**
   * Horizontal bars of a breakdown's cells (every category named, hidden cells labelled).
   * `noise`: the answer's max_noise, for the tooltips; `unit`: what is counted (default
   * "demandes"), `legend`: the dataset's name (default "Demandes des jeunes").
   */
  function breakdownChart(name, canvasId, cells, color, noise, unit, legend) {
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
        datasets: [{ label: legend || 'Demandes des jeunes', data: values, backgroundColor: color, borderRadius: 3, maxBarThickness: 26 }],
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
                return nf.format(c.raw) + ' ' + (unit || 'demandes') + (cell.share === null || cell.share === undefined ? '' : ' (' + pf.format(cell.share) + ')') +
                  (cell.status === 'E' ? ', exact' : ', protégé ±' + noise);
              },
            },
          },
        },
      },
    });
  }

  /** Destroys every chart (the results are hidden). */
  function clear() {
    Object.keys(charts).forEach(function (k) {
      charts[k].destroy();
    });
    charts = {};
  }

  /** True when Chart.js is loaded (else only the figures and tables are shown). */
  function available() {
    return typeof window.Chart === 'function';
  }

  if (available()) {
    window.Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
    window.Chart.defaults.color = '#1b1b1b';
  }

  O.charts = { trend: trendChart, breakdown: breakdownChart, replace: replaceChart, clear: clear, available: available };
})((window.ldaObservatory = window.ldaObservatory || {}));
