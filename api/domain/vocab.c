/*
 * vocab — the product's enumerations as static data: every code with
 * its French label, in the order of the specification. Validation, rendering,
 * the batch path and GET /v1/vocabularies all read these tables.
 *
 * Every enumeration of a person's situation (composition, sex, resource,
 * housing_situation, vulnerability, siao_need) also carries `unknown`: the
 * source does not know, or the person refused to say. SIAO requests' `situation`
 * uses the housing_situation enumeration.
 */
#include "domain/vocab.h"

#include <string.h>

#define COUNT(a)      (sizeof(a) / sizeof((a)[0]))
#define UNKNOWN_LABEL "Inconnu (ne sait pas ou refus)"

static const vocab_code PLATFORM[] = {
    {"artois", "Artois"},         {"lens_henin", "Lens-Hénin"},       {"audomarois", "Audomarois"},
    {"boulonnais", "Boulonnais"}, {"montreuillois", "Montreuillois"},
};

static const vocab_code PARTNER_KIND[] = {
    {"ccas", "CCAS (centre communal d'action sociale)"},
    {"departement_mds", "Département (Maison du Département Solidarité)"},
    {"guardianship", "Service tutélaire (tutelle, curatelle)"},
    {"shelter_structure", "Structure d'hébergement"},
    {"siao", "SIAO"},
    {"social_landlord", "Bailleur social"},
    {"association", "Association"},
    {"mental_health", "Acteur de la santé mentale (EPSM, CMP)"},
    {"justice_spip", "Justice (SPIP)"},
    {"caf", "CAF (caisse d'allocations familiales)"},
    {"mission_locale", "Mission locale"},
    {"other", "Autre partenaire"},
};

static const vocab_code COMPOSITION[] = {
    {"single_person", "Personne seule"},
    {"couple_no_child", "Couple sans enfant"},
    {"couple_with_children", "Couple avec enfant(s)"},
    {"single_parent", "Famille monoparentale"},
    {"other", "Autre composition"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code SEX[] = {
    {"female", "Femme"},
    {"male", "Homme"},
    {"other", "Autre"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code RESOURCE[] = {
    {"rsa", "RSA (revenu de solidarité active)"},
    {"aah", "AAH (allocation aux adultes handicapés)"},
    {"salary", "Salaire"},
    {"unemployment_benefit", "Allocation chômage"},
    {"pension", "Retraite ou pension"},
    {"youth_guarantee", "Garantie jeunes (contrat d'engagement jeune)"},
    {"none", "Sans ressources"},
    {"other", "Autres ressources"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code HOUSING_SITUATION[] = {
    {"housed", "Déjà en logement"},
    {"street", "À la rue, en errance"},
    {"squat", "En squat"},
    {"hosted_by_third_party", "Hébergé chez des tiers"},
    {"shelter_structure", "Hébergé en structure"},
    {"hotel", "À l'hôtel"},
    {"institution", "En institution (hôpital, prison, aide sociale à l'enfance)"},
    {"precarious_housing", "Habitat précaire"},
    {"other", "Autre situation"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code VULNERABILITY[] = {
    {"mental_health", "Troubles de santé mentale"},
    {"addiction", "Conduites addictives"},
    {"domestic_violence", "Victime de violences intrafamiliales"},
    {"eviction", "Expulsion locative"},
    {"justice_release", "Sortie de détention (personne sous main de justice)"},
    {"disability", "Handicap"},
    {"child_welfare_leaver", "Sortant de l'aide sociale à l'enfance (ASE)"},
    {"no_resources_youth", "Jeune sans ressources"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code REFERRAL_REASON[] = {
    {"eviction_risk", "Risque d'expulsion locative"},
    {"homelessness", "Sans-abrisme"},
    {"leaving_structure", "Sortie de structure ou d'institution"},
    {"unsuitable_housing", "Logement inadapté"},
    {"domestic_violence", "Violences intrafamiliales"},
    {"health", "Problématique de santé"},
    {"other", "Autre motif"},
};

static const vocab_code REFERRAL_STATUS[] = {
    {"received", "Saisine reçue"},
    {"assessing", "Étayage en cours"},
    {"orientation_proposed", "Orientation proposée"},
    {"accompanied", "Ménage accompagné"},
    {"accompaniment_ended", "Accompagnement terminé"},
    {"reoriented", "Ménage réorienté"},
    {"no_follow_up", "Sans suite"},
};

static const vocab_code MEASURE_KIND[] = {
    {"adsl", "ADSL – Autonome Dans Son Logement"},
    {"vial", "VIAL – Vers l'Insertion et l'Autonomie en Logement"},
    {"envaul", "ENVAUL – ENtrée dans la Vie AUtonome par le Logement"},
    {"other", "Autre accompagnement"},
};

static const vocab_code MEASURE_END_REASON[] = {
    {"goals_met", "Objectifs atteints"},
    {"handover_mainstream", "Relais vers le droit commun"},
    {"broken_off", "Rupture de l'accompagnement"},
    {"moved_away", "Départ du territoire"},
    {"death", "Décès"},
    {"other", "Autre motif"},
};

static const vocab_code HOUSING_OUTCOME[] = {
    {"accessed", "Accès au logement"},
    {"maintained", "Maintien dans le logement"},
    {"none", "Ni accès ni maintien"},
};

static const vocab_code HOUSING_TYPE[] = {
    {"social_housing", "Logement social"},
    {"private_rental", "Logement locatif privé"},
    {"sas_housing", "Logement SAS"},
    {"youth_flatshare", "Colocation pour jeunes de 18 à 25 ans"},
    {"rental_intermediation", "Intermédiation locative (IML)"},
    {"boarding_house", "Pension de famille"},
    {"other", "Autre type de logement"},
};

static const vocab_code SIAO_CHANNEL[] = {
    {"call_115", "Appel au 115"},
    {"siao_insertion", "SIAO insertion"},
    {"street_outreach", "Maraude (aller vers)"},
    {"day_centre", "Accueil de jour"},
    {"other", "Autre canal"},
};

static const vocab_code SIAO_NEED[] = {
    {"emergency_shelter", "Hébergement d'urgence"},
    {"housing", "Logement"},
    {"food", "Alimentation"},
    {"health", "Santé"},
    {"employment_training", "Emploi et formation"},
    {"rights_access", "Accès aux droits"},
    {"mobility", "Mobilité"},
    {"other", "Autre besoin"},
    {"unknown", UNKNOWN_LABEL},
};

static const vocab_code SIAO_RESPONSE[] = {
    {"sheltered", "Mise à l'abri (hébergé)"},
    {"housing_orientation", "Orientation vers le logement"},
    {"no_place_available", "Pas de place disponible"},
    {"declined_by_person", "Refus de la personne"},
    {"referred_elsewhere", "Orientation vers un autre service"},
    {"pending", "En attente de réponse"},
    {"other", "Autre réponse"},
};

static const vocab_code AGE_BAND[] = {
    {"under_18", "Moins de 18 ans"},   {"age_18_25", "18 à 25 ans"}, {"age_26_34", "26 à 34 ans"},
    {"age_35_44", "35 à 44 ans"},      {"age_45_54", "45 à 54 ans"}, {"age_55_64", "55 à 64 ans"},
    {"age_65_plus", "65 ans et plus"},
};

/* The ages of each band (inclusive), in the order of AGE_BAND. */
static const int AGE_BAND_RANGE[][2] = {{0, 17},  {18, 25}, {26, 34}, {35, 44},
                                        {45, 54}, {55, 64}, {65, 120}};

bool vocab_age_band_range(const char *code, int *lo, int *hi)
{
    for (size_t i = 0; i < COUNT(AGE_BAND); i++)
        if (code && !strcmp(AGE_BAND[i].code, code)) {
            *lo = AGE_BAND_RANGE[i][0];
            *hi = AGE_BAND_RANGE[i][1];
            return true;
        }
    return false;
}

static const vocab_code ROLE[] = {
    {"admin", "Administrateur"},
    {"coordinator", "Coordinateur de plateforme"},
    {"partner", "Partenaire prescripteur"},
    {"siao", "Système d'information SIAO"},
    {"analyst", "Analyste (statistiques)"},
};

/* The change feed's event types (GET /v1/changes, webhooks). A new type is emitted by
 * lda_change_emit (see migration 013) and listed here. */
static const vocab_code CHANGE_TYPE[] = {
    {"referral_created", "Saisine reçue"},
    {"referral_updated", "Saisine modifiée"},
    {"referral_status_changed", "Changement de statut de la saisine"},
    {"measure_started", "Accompagnement commencé"},
    {"measure_updated", "Accompagnement modifié"},
    {"measure_ended", "Accompagnement terminé"},
    {"household_created", "Ménage créé"},
    {"household_updated", "Ménage modifié"},
    {"household_erased", "Identité du ménage effacée"},
    {"siao_batch_applied", "Lot de demandes SIAO intégré"},
    {"prevention_case_created", "Dossier de prévention des expulsions ouvert"},
    {"prevention_case_stage_changed", "Nouvelle étape de la procédure d'expulsion"},
    {"prevention_case_updated", "Dossier de prévention des expulsions modifié"},
    {"prevention_action_recorded", "Action de prévention enregistrée"},
    {"prevention_action_updated", "Action de prévention modifiée"},
    {"prevention_follow_up_recorded", "Suivi à 6, 12 ou 24 mois enregistré"},
    {"placement_started", "Entrée dans un logement de l'offre"},
    {"placement_ended", "Sortie d'un logement de l'offre"},
    {"placement_updated", "Séjour dans un logement de l'offre modifié"},
};

static const vocab_code WEBHOOK_STATUS[] = {
    {"active", "Actif"},
    {"disabled", "Désactivé"},
};

static const vocab_code WEBHOOK_DISABLED_REASON[] = {
    {"failing", "Livraisons en échec depuis trop longtemps"},
    {"gone", "Le destinataire a répondu 410 (supprimé)"},
    {"owner_revoked", "Le jeton propriétaire est révoqué ou expiré"},
    {"by_owner", "Désactivé par son propriétaire"},
};

static const vocab_code WEBHOOK_DELIVERY_STATE[] = {
    {"pending", "En attente ou en cours de nouvel essai"},
    {"delivered", "Livré"},
    {"failed", "Abandonné après échecs répétés"},
};

/* Eviction prevention (docs/prevention-and-housing.md). */
static const vocab_code LANDLORD_KIND[] = {
    {"social", "Bailleur social"},
    {"private", "Bailleur privé"},
};

/* The stages of an eviction procedure, in their legal order. */
static const vocab_code PROCEDURE_STAGE[] = {
    {"payment_order", "Commandement de payer"},
    {"summons", "Assignation"},
    {"judgment", "Jugement"},
    {"order_to_leave", "Commandement de quitter les lieux"},
    {"police_assistance_requested", "Concours de la force publique (CFP) demandé"},
    {"police_assistance_granted", "Concours de la force publique (CFP) accordé"},
    {"eviction_carried_out", "Expulsion réalisée"},
};

static const vocab_code PREVENTION_ACTION_KIND[] = {
    {"vej", "Visite explicative de jugement (VEJ)"},
    {"pex_mobile_team", "Équipe mobile de prévention des expulsions (PEX)"},
    {"social_support", "Accompagnement social"},
    {"fsl_aid", "Aide du Fonds de solidarité pour le logement (FSL)"},
    {"other", "Autre action"},
};

static const vocab_code FOLLOW_UP_SITUATION[] = {
    {"maintained", "Maintenu dans le logement"},
    {"rehoused", "Relogé"},
    {"evicted", "Expulsé"},
    {"left_without_solution", "Parti sans solution de logement"},
    {"procedure_pending", "Procédure en cours"},
    {"unknown", "Situation inconnue"},
};

static const vocab_code PEX_ELIGIBILITY[] = {
    {"within_criteria", "Dans les critères d'intervention de l'équipe mobile PEX"},
    {"below_criteria", "Dette inférieure au minimum des critères PEX"},
    {"above_criteria", "Dette supérieure au maximum des critères PEX"},
    {"no_rule", "Aucun critère PEX en vigueur pour cet AMI à cette date"},
    {"debt_unknown", "Dette non renseignée"},
};

static const vocab_code DEBT_BAND[] = {
    {"below_1500", "Moins de 1 500 €"},
    {"from_1500_to_4000", "De 1 500 à 4 000 €"},
    {"above_4000", "Plus de 4 000 €"},
    {"unknown", "Dette non renseignée"},
};

/* The housing offer. */
static const vocab_code HOUSING_OFFER_KIND[] = {
    {"social_housing", "Logement social"},
    {"private_intermediation", "Intermédiation locative dans le parc privé (type Solibail)"},
    {"sas_flat", "Logement SAS"},
    {"youth_shared_flat", "Colocation pour jeunes de 18 à 25 ans"},
    {"other", "Autre offre de logement"},
};

static const vocab_code TYPOLOGY[] = {
    {"t1", "T1 (studio, une pièce)"},
    {"t2", "T2"},
    {"t3", "T3"},
    {"t4", "T4"},
    {"t5_plus", "T5 et plus"},
    {"room", "Chambre en colocation"},
};

static const vocab_code PLACEMENT_EXIT_REASON[] = {
    {"permanent_housing", "Relogement dans un logement pérenne"},
    {"lease_transferred", "Glissement du bail au ménage"},
    {"moved_elsewhere", "Départ vers une autre solution"},
    {"evicted", "Expulsion"},
    {"left_without_solution", "Départ sans solution"},
    {"death", "Décès"},
    {"other", "Autre motif"},
};

#define VOCAB(name, label, arr)                                                                    \
    {                                                                                              \
        name, label, arr, COUNT(arr)                                                               \
    }

const vocab VOCABS[] = {
    VOCAB("platform", "Plateforme territoriale", PLATFORM),
    VOCAB("partner_kind", "Type de partenaire", PARTNER_KIND),
    VOCAB("composition", "Composition du ménage", COMPOSITION),
    VOCAB("sex", "Sexe", SEX),
    VOCAB("resource", "Ressources", RESOURCE),
    VOCAB("housing_situation", "Situation au regard du logement", HOUSING_SITUATION),
    VOCAB("vulnerability", "Vulnérabilités", VULNERABILITY),
    VOCAB("referral_reason", "Motif de la saisine", REFERRAL_REASON),
    VOCAB("referral_status", "Statut de la saisine", REFERRAL_STATUS),
    VOCAB("measure_kind", "Type d'accompagnement", MEASURE_KIND),
    VOCAB("measure_end_reason", "Motif de fin d'accompagnement", MEASURE_END_REASON),
    VOCAB("housing_outcome", "Résultat logement", HOUSING_OUTCOME),
    VOCAB("housing_type", "Type de logement", HOUSING_TYPE),
    VOCAB("siao_channel", "Canal de la demande SIAO", SIAO_CHANNEL),
    VOCAB("siao_need", "Besoin exprimé", SIAO_NEED),
    VOCAB("siao_response", "Réponse apportée", SIAO_RESPONSE),
    VOCAB("landlord_kind", "Type de bailleur", LANDLORD_KIND),
    VOCAB("procedure_stage", "Étape de la procédure d'expulsion", PROCEDURE_STAGE),
    VOCAB("prevention_action_kind", "Action de prévention des expulsions", PREVENTION_ACTION_KIND),
    VOCAB("follow_up_situation", "Situation du ménage au suivi (6, 12, 24 mois)",
          FOLLOW_UP_SITUATION),
    VOCAB("pex_eligibility", "Critères d'intervention de l'équipe mobile PEX", PEX_ELIGIBILITY),
    VOCAB("debt_band", "Tranche de dette locative", DEBT_BAND),
    VOCAB("housing_offer_kind", "Type d'offre de logement", HOUSING_OFFER_KIND),
    VOCAB("typology", "Typologie du logement", TYPOLOGY),
    VOCAB("placement_exit_reason", "Motif de sortie du logement", PLACEMENT_EXIT_REASON),
    VOCAB("age_band", "Tranche d'âge", AGE_BAND),
    VOCAB("role", "Rôle du jeton d'accès", ROLE),
    VOCAB("change_type", "Type d'événement du flux des changements", CHANGE_TYPE),
    VOCAB("webhook_status", "État d'un webhook", WEBHOOK_STATUS),
    VOCAB("webhook_disabled_reason", "Motif de désactivation d'un webhook",
          WEBHOOK_DISABLED_REASON),
    VOCAB("webhook_delivery_state", "État d'une livraison de webhook", WEBHOOK_DELIVERY_STATE),
};

const size_t VOCAB_COUNT = COUNT(VOCABS);

const vocab *vocab_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < VOCAB_COUNT; i++)
        if (strcmp(VOCABS[i].name, name) == 0) return &VOCABS[i];
    return NULL;
}

const char *vocab_label(const vocab *v, const char *code)
{
    if (!v || !code) return NULL;
    for (size_t i = 0; i < v->ncodes; i++)
        if (strcmp(v->codes[i].code, code) == 0) return v->codes[i].label_fr;
    return NULL;
}

bool vocab_has(const vocab *v, const char *code) { return vocab_label(v, code) != NULL; }
