// A front-end's view of lda-api, through the types openapi-typescript generates from
// openapi.yaml and the openapi-fetch client. It is type-checked only (`tsc --noEmit`, ctest
// contract_typescript_client): if the contract changes in a way that breaks a typical client —
// a renamed path, a field that changes type, a code that disappears — this file stops compiling.
//
// Three operations: list the platforms (public), send a referral with a new household inline
// (partner token), ask the youth observatory questions of the statistics grid (analyst token).
// Errors are RFC 9457 problem+json documents, typed as the Problem schema.

import createClient from "openapi-fetch";
import type { components, paths } from "lda-api-openapi";

type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Platform = Schemas["Platform"];
export type ReferralInput = Schemas["ReferralInput"];
export type Referral = Schemas["Referral"];
export type YouthStats = Schemas["YouthStats"];
export type PlatformCode = Schemas["PlatformCode"];
export type AgeBand = Schemas["AgeBand"];
export type Disclosure = Schemas["Disclosure"];
export type StatsCell = Schemas["StatsCell"];

/** What a call gives back: the value, or the problem the API answered with. */
export type Result<T> = { ok: true; value: T } | { ok: false; status: number; problem: Problem };

/** A client for one bearer token (none for the public reference data). */
export function lda(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}
type Client = ReturnType<typeof lda>;

/** The problem+json body of an error answer, typed; a stand-in when there is none (a proxy's 502). */
function problemOf(error: Problem | undefined, response: Response): Problem {
  return (
    error ?? {
      type: "/problems/internal",
      title: "Unexpected answer",
      status: response.status,
      detail: `HTTP ${response.status} without a problem document`,
      instance: new URL(response.url || "http://invalid/").pathname,
      request_id: response.headers.get("X-Request-Id") ?? "",
    }
  );
}

/** 1. GET /v1/platforms — public: no token needed. */
export async function listPlatforms(api: Client): Promise<Result<Platform[]>> {
  const { data, error, response } = await api.GET("/v1/platforms");
  if (data === undefined) return { ok: false, status: response.status, problem: problemOf(error, response) };
  // The five platforms come in one page (next_cursor is always null; openapi-fetch's Readable<>
  // drops properties whose only type is null — openapi-typescript issue #2717 —, so it is not read).
  return { ok: true, value: data.items };
}

/**
 * 2. POST /v1/referrals — a partner sends a referral with the household inline. 422 lists
 * every invalid field as a JSON pointer (`/household/head/birth_date`), shown next to the input.
 */
export async function sendReferral(
  api: Client,
  input: ReferralInput,
): Promise<Result<{ referral: Referral; etag: string | null; location: string | null }>> {
  const { data, error, response } = await api.POST("/v1/referrals", { body: input });
  if (data !== undefined) {
    return {
      ok: true,
      value: { referral: data, etag: response.headers.get("ETag"), location: response.headers.get("Location") },
    };
  }
  const problem = problemOf(error, response);
  if (problem.status === 422) {
    for (const e of problem.errors ?? []) {
      const field: string = e.field; // JSON pointer into the body, e.g. /household/head/birth_date
      const message: string = e.message;
      console.warn(`${field || "(body)"}: ${message}`);
    }
  } else if (problem.status === 409 && problem.existing_id !== undefined) {
    console.warn(`this person already has a household: ${problem.existing_id}`);
  }
  return { ok: false, status: response.status, problem };
}

export function exampleReferral(today: string): ReferralInput {
  return {
    platform: "artois",
    received_on: today,
    has_social_note: true,
    referrer_kind: "ccas",
    referrer_name: "CCAS de Béthune",
    reasons: ["eviction_risk", "unsuitable_housing"],
    household: {
      platform: "artois",
      composition: "single_parent",
      adults: 1,
      children: 2,
      head: { last_name: "Martin", first_name: "Julie", birth_date: "1990-06-02", sex: "female" },
      resources: ["rsa"],
      housing_situation: "housed",
      vulnerabilities: ["eviction"],
    },
  };
}

/** The platforms a statistics question covers: all of them, one AMI, or one platform. */
export type StatsScope = { platform: PlatformCode } | { ami: 1 | 2 } | Record<string, never>;

/**
 * 3. GET /v1/observatory/youth — one question of the statistics grid: a period of whole months
 * (one month, one quarter, one calendar year or whole calendar years), all platforms or one AMI
 * or one platform, and an age band (default 18 to 25). JSON. A null figure is hidden by
 * disclosure control (or a rate with a zero denominator).
 */
export async function youthObservatory(
  api: Client,
  scope: StatsScope,
  from: string,
  to: string,
  ageBand: AgeBand = "age_18_25",
): Promise<Result<YouthStats>> {
  const { data, error, response } = await api.GET("/v1/observatory/youth", {
    params: { query: { ...scope, from, to, age_band: ageBand, format: "json" } },
  });
  if (data === undefined) return { ok: false, status: response.status, problem: problemOf(error, response) };
  // The operation also declares text/csv: the body type is YouthStats | string.
  if (typeof data === "string") throw new Error("asked for JSON, got CSV");
  return { ok: true, value: data };
}

/** How a published count reads: the value and whether it is exact, protected or hidden. */
function published(value: number | null, exact: boolean, disclosure: Disclosure): string {
  if (value === null) return "secret statistique";
  return exact ? `${value} (exact)` : `${value} (±${disclosure.max_noise})`;
}

function statusText(cell: StatsCell): string {
  const status: "E" | "P" | "A" = cell.status;
  return status === "A" ? "masqué" : status === "E" ? "exact" : "protégé";
}

function describeYouth(stats: YouthStats): string {
  const d = stats.disclosure;
  const method: "cell_key" = d.method;
  const share = stats.youth_share === null ? "hidden" : `${(stats.youth_share * 100).toFixed(1)} %`;
  const requests = published(stats.youth_requests, d.exact.includes("youth_requests"), d);
  const bySex = stats.by_sex.map((cell) => `${cell.label_fr}: ${cell.count ?? "—"} (${statusText(cell)})`).join(", ");
  const where = stats.filters.platform ?? (stats.filters.ami !== null ? `AMI ${stats.filters.ami}` : "all platforms");
  return `${stats.filters.from}..${stats.filters.to} (${stats.filters.period}), ${where}, ${stats.filters.age_band}: ${requests} youth requests (${share}); ${bySex}; ${method}, threshold ${d.threshold}`;
}

export async function main(baseUrl: string, partnerToken: string, analystToken: string): Promise<void> {
  const platforms = await listPlatforms(lda(baseUrl));
  if (!platforms.ok) throw new Error(`${platforms.status} ${platforms.problem.title}`);
  for (const p of platforms.value) console.log(`${p.code} — ${p.name} (AMI ${p.ami}, since ${p.active_since})`);

  const sent = await sendReferral(lda(baseUrl, partnerToken), exampleReferral("2025-03-10"));
  if (sent.ok) console.log(`referral ${sent.value.referral.id}: ${sent.value.referral.status}`);
  else console.warn(`${sent.status} ${sent.problem.detail} (request ${sent.problem.request_id})`);

  const analyst = lda(baseUrl, analystToken);
  const questions: [StatsScope, string, string][] = [
    [{ platform: "artois" }, "2024-01-01", "2024-12-31"], // one platform, one year
    [{ ami: 2 }, "2024-04-01", "2024-06-30"], // one AMI, one quarter
    [{}, "2019-01-01", "2022-12-31"], // all platforms, whole years
  ];
  for (const [scope, from, to] of questions) {
    const youth = await youthObservatory(analyst, scope, from, to);
    if (youth.ok) console.log(describeYouth(youth.value));
    else console.warn(`${youth.status} ${youth.problem.detail}`); // 422 names the parameter off the grid
  }
}

// The generated types are precise enough to catch these mistakes at compile time; if one of
// them ever compiles, the spec has lost information and tsc reports the unused directive.
export function mistakesCaught(api: Client): void {
  // @ts-expect-error — not a platform code
  const wrongPlatform: PlatformCode = "calais";
  // @ts-expect-error — received_on is required
  const missingDate: ReferralInput = { platform: "artois", household: "3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12" };
  // @ts-expect-error — no such route
  void api.GET("/v1/referal");
  // @ts-expect-error — the observatory takes no `granularity` (that is the series)
  void api.GET("/v1/observatory/youth", { params: { query: { granularity: "year" } } });
  // @ts-expect-error — no free age range: an age band
  void api.GET("/v1/observatory/youth", { params: { query: { age_min: 18 } } });
  // @ts-expect-error — one platform at most (not a list)
  void api.GET("/v1/observatory/youth", { params: { query: { platform: ["artois", "lens_henin"] } } });
  // @ts-expect-error — not an age band of the vocabulary
  void api.GET("/v1/observatory/youth/series", { params: { query: { age_band: "age_18_24" } } });
  // @ts-expect-error — AMI 1 or 2
  void api.GET("/v1/stats/activity", { params: { query: { ami: 3 } } });
  void wrongPlatform;
  void missingDate;
}
