// /observatory, /prevention, /housing: the question asked, from the filters form. The controls
// can only ask the questions the statistics answer (docs/statistics.md): a period of whole
// months — one month, one quarter, one calendar year or a range of calendar years, built from
// selects, never typed dates —, all platforms or one AMI or one platform (one select), and, on
// the observatory, one age band of the `age_band` vocabulary and a granularity (the other
// pages have neither control). window.ldaObservatory.question.
(function (O) {
  'use strict';

  var F = O.format;
  var FIRST_YEAR = 2019; // the default start of the statistics
  var MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  var QUARTERS = ['janvier à mars', 'avril à juin', 'juillet à septembre', 'octobre à décembre'];
  var GRANULARITY_RANK = { month: 0, quarter: 1, year: 2, years: 3 };

  function $(id) {
    return document.getElementById(id);
  }

  var els = {
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
  };
  var platforms = []; // [{code, name, ami}] from GET /v1/platforms

  function publicGet(path) {
    return fetch(path, { headers: { Accept: 'application/json' }, credentials: 'omit' }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    });
  }

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
    return { from: year + '-' + F.pad2(first) + '-01', to: endYear + '-' + F.pad2(last) + '-' + F.pad2(lastDay) };
  }

  /**
   * The question of the form: { kind, from, to, platform | null, ami | null, ageBand,
   * granularity }.
   */
  function read() {
    var kind = els.periodKind.value;
    var year = parseInt(els.year.value, 10) || F.thisYear() - 1;
    var p = gridPeriod(kind, year, +els.month.value, +els.quarter.value, parseInt(els.yearTo.value, 10) || year);
    var where = els.platform.value;
    var ami = /^ami:([12])$/.exec(where);
    return {
      kind: kind,
      from: p.from,
      to: p.to,
      platform: where !== 'all' && !ami ? where : null,
      ami: ami ? +ami[1] : null,
      ageBand: els.ageBand ? els.ageBand.value || 'age_18_25' : null,
      granularity: els.granularity ? els.granularity.value : null,
    };
  }

  /** The query string of a question: platform and ami never together, platform at most once. */
  function query(f, extra) {
    var p = new URLSearchParams();
    p.set('from', f.from);
    p.set('to', f.to);
    if (f.platform) p.set('platform', f.platform);
    else if (f.ami) p.set('ami', String(f.ami));
    if (f.ageBand) p.set('age_band', f.ageBand);
    Object.keys(extra || {}).forEach(function (k) {
      p.set(k, extra[k]);
    });
    return p.toString();
  }

  function fillYears(select, years) {
    var current = select.value;
    select.textContent = '';
    years.forEach(function (y) {
      select.appendChild(F.el('option', { value: String(y), text: String(y) }));
    });
    if (current && years.indexOf(+current) >= 0) select.value = current;
  }

  /** The years offered: from the first year with data (at most FIRST_YEAR) to this year. */
  function setYearRange(firstYear) {
    var years = [];
    for (var y = Math.min(firstYear, FIRST_YEAR); y <= F.thisYear(); y++) years.push(y);
    fillYears(els.year, years);
    fillYears(els.yearTo, years);
  }

  /**
   * Shows the selects of the period kind, keeps year-to >= year, offers the granularities that
   * fit, and says the period's dates. `changed`: the select the user just changed, if any.
   */
  function sync(changed) {
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
    var options = els.granularity ? els.granularity.options : [];
    for (var i = 0; i < options.length; i++) options[i].disabled = GRANULARITY_RANK[options[i].value] > rank;
    if (els.granularity && els.granularity.selectedOptions[0] && els.granularity.selectedOptions[0].disabled) els.granularity.value = 'month';
    var p = read();
    els.periodDates.textContent = 'Du ' + F.longDate(p.from) + ' au ' + F.longDate(p.to) + '.';
    els.periodDates.setAttribute('data-from', p.from);
    els.periodDates.setAttribute('data-to', p.to);
  }

  /** Sets the period: kind, year, and the month, quarter or last year (`extra`). */
  function setPeriod(kind, year, extra) {
    els.periodKind.value = kind;
    els.year.value = String(year);
    if (kind === 'month') els.month.value = String(extra);
    if (kind === 'quarter') els.quarter.value = String(extra);
    if (kind === 'years') els.yearTo.value = String(extra);
    sync();
  }

  function platformName(code) {
    for (var i = 0; i < platforms.length; i++) if (platforms[i].code === code) return platforms[i].name;
    return code;
  }

  function amiNames(ami) {
    return platforms
      .filter(function (p) {
        return p.ami === ami;
      })
      .map(function (p) {
        return p.name;
      });
  }

  /** Fills the platform select from GET /v1/platforms; resolves an error text or null. */
  function loadPlatforms() {
    return publicGet('/v1/platforms').then(
      function (body) {
        platforms = body.items || [];
        platforms.forEach(function (p) {
          els.platformOne.appendChild(F.el('option', { value: p.code, text: p.name + (p.ami ? ' (AMI ' + p.ami + ')' : '') }));
        });
        [1, 2].forEach(function (ami) {
          var names = amiNames(ami);
          var option = els.platform.querySelector('option[value="ami:' + ami + '"]');
          if (option && names.length) option.textContent = 'AMI ' + ami + ' (' + names.join(', ') + ')';
        });
        return null;
      },
      function () {
        return "La liste des plateformes n'a pas pu être chargée (GET /v1/platforms) : seuls « Toutes les plateformes » et les AMI sont proposés.";
      }
    );
  }

  /** Fills the age band select from GET /v1/vocabularies (else 18 to 25 stays the only band). */
  function loadAgeBands() {
    if (!els.ageBand) return Promise.resolve();
    return publicGet('/v1/vocabularies').then(
      function (body) {
        var bands = body.age_band || [];
        if (!bands.length) return;
        var current = els.ageBand.value;
        els.ageBand.textContent = '';
        bands.forEach(function (b) {
          els.ageBand.appendChild(F.el('option', { value: b.code, text: b.label_fr }));
        });
        els.ageBand.value = current;
      },
      function () {
        /* the default band stays the only choice */
      }
    );
  }

  function ageBandLabel(code) {
    if (!els.ageBand) return code;
    var o = els.ageBand.querySelector('option[value="' + code + '"]');
    return o ? o.textContent : code;
  }

  /** The question an answer says it answers (its `filters`), in words. */
  function describe(filters) {
    var f = filters;
    var when;
    var from = f.from.split('-');
    if (f.period === 'month') when = MONTHS[+from[1] - 1] + ' ' + from[0];
    else if (f.period === 'quarter') {
      when = Math.ceil(+from[1] / 3) + (from[1] === '01' ? 'er' : 'e') + ' trimestre ' + from[0] + ' (' + QUARTERS[Math.floor((+from[1] - 1) / 3)] + ')';
    } else if (f.period === 'year') when = 'année ' + from[0];
    else when = 'années ' + from[0] + ' à ' + f.to.slice(0, 4);
    var where;
    if (f.platform) where = 'plateforme ' + platformName(f.platform);
    else if (f.ami) where = 'AMI ' + f.ami + (amiNames(f.ami).length ? ' (' + amiNames(f.ami).join(', ') + ')' : '');
    else if (platforms.length && f.platforms.length === platforms.length) where = 'toutes les plateformes';
    else where = (f.platforms.length > 1 ? 'plateformes ' : 'plateforme ') + f.platforms.map(platformName).join(', ');
    var text = when.charAt(0).toUpperCase() + when.slice(1) + ' · ' + where;
    return f.age_band ? text + ' · jeunes de ' + ageBandLabel(f.age_band) : text;
  }

  O.question = {
    FIRST_YEAR: FIRST_YEAR,
    read: read,
    query: query,
    sync: sync,
    setYearRange: setYearRange,
    setPeriod: setPeriod,
    loadPlatforms: loadPlatforms,
    loadAgeBands: loadAgeBands,
    ageBandLabel: ageBandLabel,
    describe: describe,
    /** The selects of the period, whose changes the page listens to. */
    periodSelects: [els.periodKind, els.year, els.yearTo, els.month, els.quarter],
  };
})((window.ldaObservatory = window.ldaObservatory || {}));
