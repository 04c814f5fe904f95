// /housing: the dashboard of the housing offer (GET /v1/stats/housing), drawn with the helpers of
// stats-page.js: the placements entered in the period by offer kind and typology, the occupancy
// of SAS flats and youth shared flats, the time from referral to placement, the tension on small
// units on the period's last day, and the fluidity meetings. A hidden value reads "secret
// statistique", never 0.
(function (O) {
  'use strict';

  var F = O.format;
  var P = O.page;
  var $ = P.$;
  var COLORS = { kind: '#1d4f91', typology: '#5b3f8c', waiting: '#a3431f', free: '#2d6a4f' };

  function hiddenCount(doc) {
    var n = 0;
    var cells = function (arr) {
      arr.forEach(function (c) {
        if (c.status === 'A') n++;
      });
    };
    ['by_offer_kind', 'by_typology', 'by_platform', 'by_year'].forEach(function (k) {
      cells(doc[k]);
    });
    cells(doc.tension.waiting_by_composition);
    cells(doc.tension.free_places_by_typology);
    var values = [doc.placements, doc.tension.waiting, doc.tension.free_places, doc.tension.waiting_small_units, doc.tension.free_small_units];
    doc.occupancy.forEach(function (o) {
      values.push(o.offers, o.placements);
    });
    Object.keys(doc.fluidity).forEach(function (k) {
      if (!/rate$/.test(k)) values.push(doc.fluidity[k]);
    });
    values.forEach(function (v) {
      if (v === null) n++;
    });
    return n;
  }

  function renderHeadline(doc) {
    var dl = $('headline');
    var noise = doc.disclosure.max_noise;
    var all = doc.time_to_placement[0];
    var t = doc.tension;
    dl.textContent = '';
    P.figure(dl, { key: 'placements', label: 'Ménages entrés', hint: "dans un logement de l'offre", value: doc.placements, kind: 'count' }, noise);
    P.figure(dl, { key: 'median_days', label: 'Délai médian', hint: "de la saisine à l'entrée", value: all.median_days, kind: 'value', unit: 'jours' }, noise);
    P.figure(dl, { key: 'waiting', label: "Ménages en attente d'un logement", hint: 'le ' + F.longDate(t.on), value: t.waiting, kind: 'count' }, noise);
    P.figure(dl, { key: 'free_places', label: 'Places libres', hint: 'logements sociaux et intermédiation, ce jour-là', value: t.free_places, kind: 'count' }, noise);
    P.figure(dl, {
      key: 'small_units_tension', label: 'Tension sur les T1-T2', hint: 'ménages en attente par place libre',
      value: t.small_units_tension === null ? null : Math.round(t.small_units_tension * 10) / 10, kind: 'value', over: t.free_small_units,
    }, noise);
  }

  function renderOccupancy(doc) {
    P.table('table-occupancy', ['Offre', 'Offres disponibles', 'Ménages accueillis', "Taux d'occupation"], doc.occupancy.map(function (o) {
      return [o.label_fr, F.valueNode(o.offers, 'count'), F.valueNode(o.placements, 'count'), F.valueNode(o.occupancy_rate, 'share')];
    }));
    P.table('table-delay', ['Offre', '1er quartile', 'Médiane', '3e quartile'], doc.time_to_placement.map(function (d) {
      return [d.label_fr, F.valueNode(d.q1_days, 'count'), F.valueNode(d.median_days, 'count'), F.valueNode(d.q3_days, 'count')];
    }));
  }

  function renderFluidity(doc) {
    var dl = $('fluidity');
    var noise = doc.disclosure.max_noise;
    var f = doc.fluidity;
    dl.textContent = '';
    P.figure(dl, { key: 'meetings', label: 'Commissions tenues', value: f.meetings, kind: 'count' }, noise);
    P.figure(dl, { key: 'households_presented', label: 'Ménages présentés', value: f.households_presented, kind: 'count' }, noise);
    P.figure(dl, { key: 'proposals_made', label: 'Propositions faites', value: f.proposals_made, kind: 'count' }, noise);
    P.figure(dl, { key: 'proposals_accepted', label: 'Propositions acceptées', value: f.proposals_accepted, kind: 'count' }, noise);
    P.figure(dl, { key: 'acceptance_rate', label: 'Part des propositions acceptées', value: f.acceptance_rate, kind: 'share', over: f.proposals_made }, noise);
  }

  function render(doc) {
    var noise = doc.disclosure.max_noise;
    renderHeadline(doc);
    P.disclosure(doc, hiddenCount(doc));
    P.breakdown('offer-kind', doc.by_offer_kind, COLORS.kind, noise, 'ménages', 'Ménages entrés');
    P.breakdown('typology', doc.by_typology, COLORS.typology, noise, 'ménages', 'Ménages entrés');
    renderOccupancy(doc);
    $('tension-on').textContent = 'le ' + F.longDate(doc.tension.on);
    P.breakdown('waiting', doc.tension.waiting_by_composition, COLORS.waiting, noise, 'ménages', 'Ménages en attente');
    P.breakdown('free-places', doc.tension.free_places_by_typology, COLORS.free, noise, 'places', 'Places libres');
    renderFluidity(doc);
  }

  P.start({
    endpoint: '/v1/stats/housing',
    csvName: 'logement',
    yearsOf: function (doc) {
      return doc.by_year;
    },
    render: render,
  });
})((window.ldaObservatory = window.ldaObservatory || {}));
