#include "domain/cohort.h"

int cohort_horizon_days(int months) { return (int)(((long)months * 304375L + 5000L) / 10000L); }

long cohort_round_days(long days) { return days < 0 ? 0 : (days + 3) / 7 * 7; }

double cohort_round_share(double share)
{
    if (share <= 0) return 0;
    return (double)(long)(share * 100.0 + 0.5) / 100.0;
}

bool cohort_estimate_ok(bool count_published, long cases, long at_risk, long events, long threshold)
{
    return count_published && cases >= 2 * threshold && at_risk >= threshold &&
           (events == 0 || events >= threshold);
}

size_t cohort_close(const long *n, bool *hidden, const size_t *members, const size_t *start,
                    size_t nfamilies)
{
    size_t added = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t f = 0; f < nfamilies; f++) {
            size_t nhidden = 0, best = 0;
            bool found = false;
            for (size_t k = start[f]; k < start[f + 1]; k++) nhidden += hidden[members[k]];
            if (nhidden != 1) continue;
            for (size_t k = start[f]; k < start[f + 1]; k++) {
                size_t i = members[k];
                if (hidden[i] || n[i] <= 0) continue;
                if (!found || n[i] < n[best]) best = i;
                found = true;
            }
            if (found) {
                hidden[best] = true;
                added++;
                changed = true;
            }
        }
    }
    return added;
}
