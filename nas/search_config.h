/* Internal: the vessel search's configuration as "key=value" lines, stored
 * in search.state and compared on --resume (nas/runner.h). To make a new
 * option part of it, add one line in search_config.c. */
#ifndef LPNAS_NAS_SEARCH_CONFIG_H
#define LPNAS_NAS_SEARCH_CONFIG_H

#include "lpnas/search.h"

/* malloc'ed text, or NULL (out of memory). */
char *lpnas_search_config_text(const lpnas_search_options *o);

/* The data set's tile size against the space, before any candidate:
 * names the data and the option. */
lpnas_status lpnas_search_check_data(const lpnas_search_options *o);

#endif
