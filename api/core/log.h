/*
 * log — one JSON object per line on stderr: {"time","level","msg",...fields}.
 * Never pass personal data, tokens, SQL text or PostgreSQL DETAIL lines to it.
 */
#ifndef LDA_CORE_LOG_H
#define LDA_CORE_LOG_H

#include "core/config.h"
#include <jansson.h>

void log_set_level(log_level lvl);
bool log_enabled(log_level lvl);

/* Writes one line. `fields` (may be NULL) is stolen: its keys are added to the line. */
void log_json(log_level lvl, const char *msg, json_t *fields);

/* Shorthands for a line with no fields. */
#define log_info(msg)  log_json(LOG_INFO, (msg), NULL)
#define log_warn(msg)  log_json(LOG_WARN, (msg), NULL)
#define log_error(msg) log_json(LOG_ERROR, (msg), NULL)

#endif
