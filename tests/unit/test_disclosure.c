/* disclosure and stats_grid: the cell-key lookup, the platform tree, breakdowns, two-way
 * tables, figures that are not counts, the official figures' rules and the grid of questions,
 * on hand-computed examples. */
#include "check.h"
#include "domain/disclosure.h"
#include "domain/siao.h"
#include "domain/stats_grid.h"

#include <stdlib.h>

/* The rows of max noise 2 of the committed perturbation table (db/migrations/011). */
static const sdc_ptable_row ROWS[] = {
    {2, 0, 0, 0, 1048576},      {2, 1, -1, 0, 327680},      {2, 1, 0, 327680, 819200},
    {2, 1, 1, 819200, 950272},  {2, 1, 2, 950272, 1048576}, {2, 2, -2, 0, 157286},
    {2, 2, -1, 157286, 367002}, {2, 2, 0, 367002, 681574},  {2, 2, 1, 681574, 891290},
    {2, 2, 2, 891290, 1048576},
};
static const sdc_params P = {11, 2, ROWS, sizeof ROWS / sizeof ROWS[0]};

/* artois, lens_henin (AMI 1); audomarois, boulonnais, montreuillois (AMI 2). */
static const sdc_tree TREE = {
    5, {0, 0, 1, 1, 1}, {"artois", "lens_henin", "audomarois", "boulonnais", "montreuillois"}};
enum { ART, LEN, AUD, BOU, MON, AMI1, AMI2, ALL, NSCOPES };

TEST(the_committed_table_is_well_formed)
{
    CHECK(sdc_ptable_check(&P) == NULL);
    sdc_ptable_row broken[10];
    memcpy(broken, ROWS, sizeof broken);
    broken[9].noise = -2; /* row 2 no longer has a mean of 0 */
    sdc_params q = {11, 2, broken, 10};
    CHECK(sdc_ptable_check(&q) != NULL);
    broken[9] = ROWS[9];
    broken[4].key_to = 1048575; /* a key of row 1 has no noise */
    CHECK(sdc_ptable_check(&q) != NULL);
}

TEST(a_cell_key_picks_its_noise_in_the_table)
{
    /* 20 records: row 2 (20 - 11 >= 2); the key is the sum modulo 2^20 */
    CHECK(sdc_protect(&P, (sdc_tally){20, 5}, false).value == 18);
    CHECK(sdc_protect(&P, (sdc_tally){20, 157286}, false).value == 19);
    CHECK(sdc_protect(&P, (sdc_tally){20, 500000}, false).value == 20);
    CHECK(sdc_protect(&P, (sdc_tally){20, 700000}, false).value == 21);
    CHECK(sdc_protect(&P, (sdc_tally){20, 1000000}, false).value == 22);
    CHECK(sdc_protect(&P, (sdc_tally){20, 1048576L * 3 + 5}, false).value == 18);
    /* at the threshold, no noise: never published below it */
    for (long k = 0; k < 1048576; k += 4099)
        CHECK(sdc_protect(&P, (sdc_tally){11, k}, false).value == 11);
    /* one above: -1 at most */
    CHECK(sdc_protect(&P, (sdc_tally){12, 0}, false).value == 11);
    CHECK(sdc_protect(&P, (sdc_tally){12, 1000000}, false).value == 14);
    /* zero stays zero; 1..10 hidden */
    sdc_figure z = sdc_protect(&P, (sdc_tally){0, 0}, false);
    CHECK(z.value == 0 && z.status == SDC_PERTURBED);
    CHECK(sdc_protect(&P, (sdc_tally){10, 3}, false).status == SDC_HIDDEN);
    CHECK(sdc_protect(&P, (sdc_tally){1, 3}, false).status == SDC_HIDDEN);
    CHECK(sdc_protect(&P, (sdc_tally){500, 3}, true).status == SDC_HIDDEN);
    sdc_figure e = sdc_exact(&P, 634, false);
    CHECK(e.value == 634 && e.status == SDC_EXACT);
    CHECK(sdc_exact(&P, 7, false).status == SDC_HIDDEN);
}

TEST(within_the_bounds_for_every_key)
{
    for (long n = 11; n < 40; n++)
        for (long k = 0; k < 1048576; k += 997) {
            long v = sdc_protect(&P, (sdc_tally){n, k}, false).value;
            CHECK(v >= 11 && v >= n - 2 && v <= n + 2);
        }
}

TEST(the_platform_tree_hides_a_second_cell)
{
    bool h[NSCOPES];
    /* artois 3 is hidden: so is lens_henin (its AMI's other platform); the AMI is not */
    sdc_tally u1[5] = {{3, 1}, {50, 2}, {0, 0}, {20, 3}, {30, 4}};
    sdc_tree_hide(&P, &TREE, u1, 1, h);
    CHECK(h[ART] && h[LEN] && !h[AMI1] && !h[AUD] && !h[BOU] && !h[MON] && !h[AMI2] && !h[ALL]);
    /* montreuillois 5: the smallest non-zero other of AMI 2 (boulonnais 20) goes with it */
    sdc_tally u2[5] = {{30, 1}, {50, 2}, {40, 0}, {20, 3}, {5, 4}};
    sdc_tree_hide(&P, &TREE, u2, 1, h);
    CHECK(h[MON] && h[BOU] && !h[AUD] && !h[ART] && !h[LEN]);
    /* an AMI of 7: the other AMI too, never all */
    sdc_tally u3[5] = {{3, 1}, {4, 2}, {40, 0}, {20, 3}, {50, 4}};
    sdc_tree_hide(&P, &TREE, u3, 1, h);
    CHECK(h[AMI1] && h[AMI2] && !h[ALL] && h[ART] && h[LEN]);
    /* a range of two years: a platform hidden in one year is hidden over the range */
    sdc_tally two[10] = {{3, 1},  {50, 2}, {0, 0}, {20, 3}, {30, 4},
                         {40, 1}, {50, 2}, {0, 0}, {20, 3}, {30, 4}};
    sdc_tree_hide(&P, &TREE, two, 2, h);
    CHECK(h[ART] && h[LEN] && !h[AMI1] && !h[ALL]);
    CHECK(sdc_scope_tally(&TREE, two + 5, AMI2).n == 50 &&
          sdc_scope_tally(&TREE, two, ALL).n == 103);
}

TEST(a_breakdown_that_splits_its_total_hides_a_second_code)
{
    /* one unit, all on artois: codes a 2, b 30, c 40 (a small: b, the smallest other, too) */
    sdc_tally a[5] = {{2, 1}}, b[5] = {{30, 2}}, c[5] = {{40, 3}};
    const sdc_tally *cells[] = {a, b, c};
    const char *codes[] = {"a", "b", "c"};
    bool h[3 * NSCOPES];
    sdc_breakdown_hide(&P, &TREE, cells, codes, 3, 1, true, h);
    CHECK(h[0 * NSCOPES + ART] && h[1 * NSCOPES + ART] && !h[2 * NSCOPES + ART]);
    CHECK(h[0 * NSCOPES + ALL] && h[1 * NSCOPES + ALL] && !h[2 * NSCOPES + ALL]);
    /* not a partition (needs: a request in several codes): only the small one */
    sdc_breakdown_hide(&P, &TREE, cells, codes, 3, 1, false, h);
    CHECK(h[0 * NSCOPES + ALL] && !h[1 * NSCOPES + ALL] && !h[2 * NSCOPES + ALL]);
    /* ties go to the first code in byte order */
    sdc_tally x[5] = {{40, 3}};
    const sdc_tally *tie[] = {a, x, c};
    const char *names[] = {"a", "z", "m"};
    sdc_breakdown_hide(&P, &TREE, tie, names, 3, 1, true, h);
    CHECK(h[2 * NSCOPES + ALL] && !h[1 * NSCOPES + ALL]);
}

/* The flags of a table's cell (r, c) in scope s (ncols columns). */
#define CELL(h, r, c, ncols, s) (h)[((r) * (ncols) + (c)) * NSCOPES + (s)]

TEST(a_two_way_table_leaves_no_line_with_a_single_hidden_cell)
{
    /* all on artois: rows a, b; columns x, y, z; a.x (3) is small */
    sdc_tally ax[5] = {{3, 1}}, ay[5] = {{40, 2}}, az[5] = {{50, 3}};
    sdc_tally bx[5] = {{30, 4}}, by[5] = {{20, 5}}, bz[5] = {{60, 6}};
    const sdc_tally *cells[] = {ax, ay, az, bx, by, bz};
    const char *rows[] = {"a", "b"}, *cols[] = {"x", "y", "z"};
    bool h[6 * NSCOPES];
    sdc_table_hide(&P, &TREE, cells, rows, 2, cols, 3, 1, h);
    for (int s = ART; s <= ALL; s += ALL - ART) {
        /* row a: a.x, then a.y (smaller than a.z); column x: b.x; row b: b.y (smaller than b.z) */
        CHECK(CELL(h, 0, 0, 3, s) && CELL(h, 0, 1, 3, s) && !CELL(h, 0, 2, 3, s));
        CHECK(CELL(h, 1, 0, 3, s) && CELL(h, 1, 1, 3, s) && !CELL(h, 1, 2, 3, s));
    }
    /* lens_henin counts nothing: nothing of it is hidden */
    for (int i = 0; i < 6; i++) CHECK(!h[i * NSCOPES + LEN]);

    /* a row whose total is hidden (b, the second of the rows' breakdown, beside a's 5):
     * one of its cells goes with it, then the columns and rows are settled again */
    sdc_tally px[5] = {{3, 1}}, py[5] = {{2, 2}};
    sdc_tally qx[5] = {{25, 3}}, qy[5] = {{15, 4}};
    sdc_tally rx[5] = {{20, 5}}, ry[5] = {{30, 6}};
    const sdc_tally *c2[] = {px, py, qx, qy, rx, ry};
    const char *r2[] = {"p", "q", "r"}, *k2[] = {"x", "y"};
    bool g[6 * NSCOPES];
    sdc_table_hide(&P, &TREE, c2, r2, 3, k2, 2, 1, g);
    CHECK(CELL(g, 0, 0, 2, ALL) && CELL(g, 0, 1, 2, ALL));  /* p's cells are small */
    CHECK(!CELL(g, 1, 0, 2, ALL) && CELL(g, 1, 1, 2, ALL)); /* q's total is hidden: q.y too */
    CHECK(CELL(g, 2, 0, 2, ALL) && CELL(g, 2, 1, 2, ALL));  /* column x, then row r */
    /* every line (with its margin) has none or at least two hidden members */
    const sdc_tally *r2m[3];
    sdc_tally sums[3][5] = {{{5, 3}}, {{40, 7}}, {{50, 11}}};
    for (int i = 0; i < 3; i++) r2m[i] = sums[i];
    bool m[3 * NSCOPES];
    sdc_breakdown_hide(&P, &TREE, r2m, r2, 3, 1, true, m);
    CHECK(m[0 * NSCOPES + ALL] && m[1 * NSCOPES + ALL] && !m[2 * NSCOPES + ALL]);
    for (int r = 0; r < 3; r++) {
        int n = m[r * NSCOPES + ALL] + CELL(g, r, 0, 2, ALL) + CELL(g, r, 1, 2, ALL);
        CHECK(n != 1);
    }

    /* a range of two years: a cell small in one of them is hidden over the range */
    sdc_tally sx[10] = {{4, 1}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {40, 1}};
    sdc_tally sy[10] = {{30, 2}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {30, 2}};
    sdc_tally tx[10] = {{50, 3}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {50, 3}};
    sdc_tally ty[10] = {{60, 4}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {60, 4}};
    const sdc_tally *c3[] = {sx, sy, tx, ty};
    const char *r3[] = {"s", "t"}, *k3[] = {"x", "y"};
    bool w[4 * NSCOPES];
    sdc_table_hide(&P, &TREE, c3, r3, 2, k3, 2, 2, w);
    CHECK(CELL(w, 0, 0, 2, ALL) && CELL(w, 0, 1, 2, ALL) && CELL(w, 1, 0, 2, ALL) &&
          CELL(w, 1, 1, 2, ALL));
}

TEST(figures_that_are_not_counts_need_enough_records_and_are_rounded)
{
    CHECK(!sdc_value_shown(&P, 21, true) && sdc_value_shown(&P, 22, true));
    CHECK(!sdc_value_shown(&P, 10, false) && sdc_value_shown(&P, 11, false));
    CHECK(sdc_round_to(2449.5, 100) == 2400 && sdc_round_to(2450, 100) == 2500);
    CHECK(sdc_round_to(230.5, 7) == 231 && sdc_round_to(227, 7) == 224 && sdc_round_to(0, 7) == 0);
    CHECK(sdc_round_rate(0.6149) == 0.61 && sdc_round_rate(0.6151) == 0.62);
    CHECK(sdc_round_rate(1.0) == 1.0 && sdc_round_rate(0.0) == 0.0);
}

TEST(official_figures_hide_the_other_ami_and_a_second_outcome)
{
    long v[SDC_NOFFICIAL][2] = {{0}};
    bool h[SDC_NOFFICIAL][2];
    v[SDC_REFERRALS_RECEIVED][0] = 100, v[SDC_REFERRALS_RECEIVED][1] = 50;
    v[SDC_ACCOMPANIED][0] = 60, v[SDC_ACCOMPANIED][1] = 20;
    v[SDC_REORIENTED][0] = 20, v[SDC_REORIENTED][1] = 15;
    v[SDC_NO_FOLLOW_UP][0] = 5, v[SDC_NO_FOLLOW_UP][1] = 10;
    v[SDC_IN_PROGRESS][0] = 15, v[SDC_IN_PROGRESS][1] = 5;
    v[SDC_HOUSED][0] = 40, v[SDC_HOUSED][1] = 12;
    v[SDC_REQUESTS_TOTAL][0] = 900, v[SDC_REQUESTS_TOTAL][1] = 800;
    v[SDC_YOUTH_REQUESTS][0] = 300, v[SDC_YOUTH_REQUESTS][1] = 795;
    sdc_official_hide(&P, v, h);
    /* all platforms: nothing small */
    for (int f = 0; f < SDC_NOFFICIAL; f++) CHECK(!h[f][0] || f == SDC_YOUTH_REQUESTS);
    /* each AMI: no_follow_up (5 in AMI 1) and in_progress (5 in AMI 2) hidden, for both */
    CHECK(h[SDC_NO_FOLLOW_UP][1] && h[SDC_IN_PROGRESS][1]);
    CHECK(!h[SDC_ACCOMPANIED][1] && !h[SDC_REORIENTED][1] && !h[SDC_REFERRALS_RECEIVED][1]);
    /* youth: AMI 2 has 5 requests of other ages: hidden for the AMIs and for all (1 + 5 <= 10
     * is not true: 600 + 5 = 605 others in all, so all platforms keep it) */
    CHECK(h[SDC_YOUTH_REQUESTS][1] && !h[SDC_YOUTH_REQUESTS][0]);
    /* one small outcome overall: the smallest other non-zero one goes with it, and with it
     * housed_or_maintained when that is accompanied */
    v[SDC_NO_FOLLOW_UP][0] = 3, v[SDC_NO_FOLLOW_UP][1] = 0;
    v[SDC_IN_PROGRESS][0] = 20, v[SDC_IN_PROGRESS][1] = 22;
    v[SDC_ACCOMPANIED][0] = 37, v[SDC_ACCOMPANIED][1] = 0;
    v[SDC_REORIENTED][0] = 40, v[SDC_REORIENTED][1] = 28;
    sdc_official_hide(&P, v, h);
    CHECK(h[SDC_NO_FOLLOW_UP][0] && h[SDC_ACCOMPANIED][0] && h[SDC_HOUSED][0]);
    CHECK(!h[SDC_IN_PROGRESS][0] && !h[SDC_REORIENTED][0]);
    CHECK(h[SDC_NO_FOLLOW_UP][1] && h[SDC_ACCOMPANIED][1]);
    CHECK_STR(sdc_official_name(SDC_HOUSED), "housed_or_maintained");
}

TEST(the_grid_takes_months_quarters_years_and_ranges_of_years_only)
{
    grid_period g;
    const char *field, *msg;
    CHECK(grid_parse("2024-03-01", "2024-03-31", &g, &field, &msg) && g.kind == GRID_MONTH);
    CHECK(grid_parse("2024-02-01", "2024-02-29", &g, &field, &msg) && g.kind == GRID_MONTH);
    CHECK(grid_parse("2024-04-01", "2024-06-30", &g, &field, &msg) && g.kind == GRID_QUARTER);
    CHECK(grid_parse("2024-01-01", "2024-12-31", &g, &field, &msg) && g.kind == GRID_YEAR);
    CHECK(grid_parse("2019-01-01", "2022-12-31", &g, &field, &msg) && g.kind == GRID_YEARS);
    CHECK(grid_nyears(&g) == 4);
    CHECK(!grid_parse("2024-03-02", "2024-03-31", &g, &field, &msg) && !strcmp(field, "from"));
    CHECK(!grid_parse("2024-03-01", "2024-03-30", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("2023-02-01", "2023-02-29", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("2024-02-01", "2024-04-30", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("2024-01-01", "2024-05-31", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("2024-04-01", "2025-03-31", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("2024-05-01", "2024-04-30", &g, &field, &msg) && !strcmp(field, "to"));
    CHECK(!grid_parse("1900-01-01", "2000-12-31", &g, &field, &msg) && !strcmp(field, "to"));
    char d[11];
    CHECK(grid_parse("2024-01-01", "2024-12-31", &g, &field, &msg));
    grid_last_day(&g, d);
    CHECK_STR(d, "2024-12-31");
}

TEST(a_series_has_a_point_per_period_clipped_to_the_question)
{
    grid_period g;
    const char *field, *msg;
    grid_point *pts;
    CHECK(grid_parse("2024-01-01", "2024-12-31", &g, &field, &msg));
    size_t n = grid_points(&g, GRID_QUARTER, &pts);
    CHECK(n == 4 && !strcmp(pts[1].label, "2024-Q2") && !strcmp(pts[1].start, "2024-04-01"));
    CHECK(pts[3].sub.kind == GRID_QUARTER);
    free(pts);
    CHECK(grid_parse("2024-04-01", "2024-06-30", &g, &field, &msg));
    n = grid_points(&g, GRID_YEAR, &pts);
    CHECK(n == 1 && !strcmp(pts[0].label, "2024") && !strcmp(pts[0].start, "2024-01-01"));
    CHECK(pts[0].sub.kind == GRID_QUARTER && pts[0].sub.first == g.first);
    free(pts);
    n = grid_points(&g, GRID_MONTH, &pts);
    CHECK(n == 3 && !strcmp(pts[2].label, "2024-06") && pts[2].sub.kind == GRID_MONTH);
    free(pts);
}

TEST(a_pushed_person_key_is_re_keyed_with_the_source)
{
    char a[SECRET_HASH_HEX], b[SECRET_HASH_HEX], c[SECRET_HASH_HEX];
    siao_person_key("k-0123456789abcdef0123456789abcdef", "siao62", "P-1", a);
    siao_person_key("k-0123456789abcdef0123456789abcdef", "siao59", "P-1", b);
    siao_person_key("k-0123456789abcdef0123456789abcdef", "siao62", "P-1", c);
    CHECK(strlen(a) == 64 && strcmp(a, b) && !strcmp(a, c) && strcmp(a, "P-1"));
}

int main(void)
{
    RUN(the_committed_table_is_well_formed);
    RUN(a_cell_key_picks_its_noise_in_the_table);
    RUN(within_the_bounds_for_every_key);
    RUN(the_platform_tree_hides_a_second_cell);
    RUN(a_breakdown_that_splits_its_total_hides_a_second_code);
    RUN(a_two_way_table_leaves_no_line_with_a_single_hidden_cell);
    RUN(figures_that_are_not_counts_need_enough_records_and_are_rounded);
    RUN(official_figures_hide_the_other_ami_and_a_second_outcome);
    RUN(the_grid_takes_months_quarters_years_and_ranges_of_years_only);
    RUN(a_series_has_a_point_per_period_clipped_to_the_question);
    RUN(a_pushed_person_key_is_re_keyed_with_the_source);
    return check_summary();
}
