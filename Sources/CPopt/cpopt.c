// popt mechanism for pfutures: table conversion, iteration, error reporting.
// The Swift side never sees popt's types, which Swift imports badly.
#include "cpopt.h"

#include <popt.h>
#include <stdlib.h>
#include <string.h>

struct cpopt_parser {
    poptContext context;
    struct poptOption *table;
    char *last_value;   // freed on the next call: repeated options must not leak
};

cpopt_parser *cpopt_new(int argc, const char *const *argv,
                        const cpopt_spec *specs, int count,
                        const char *trailing_usage) {
    cpopt_parser *parser = calloc(1, sizeof *parser);
    if (parser == NULL) return NULL;
    parser->table = calloc((size_t)count + 1, sizeof *parser->table);
    if (parser->table == NULL) { free(parser); return NULL; }
    for (int i = 0; i < count; i++) {
        struct poptOption *o = &parser->table[i];
        o->longName = specs[i].long_name;
        o->shortName = specs[i].short_name;
        o->argInfo = specs[i].takes_argument ? POPT_ARG_STRING : POPT_ARG_NONE;
        o->arg = NULL;  // values are fetched with poptGetOptArg and validated in Swift
        o->val = specs[i].id;
        o->descrip = specs[i].help;
        o->argDescrip = specs[i].arg_name;
    }
    // POSIXMEHARDER: options stop at the first word that is not one, so
    // `run -j4 grep -n foo` leaves `-n` to grep and only the first `--` goes.
    parser->context = poptGetContext(argv[0], argc, (const char **)argv,
                                     parser->table, POPT_CONTEXT_POSIXMEHARDER);
    if (parser->context == NULL) { free(parser->table); free(parser); return NULL; }
    if (trailing_usage != NULL) poptSetOtherOptionHelp(parser->context, trailing_usage);
    return parser;
}

int cpopt_next(cpopt_parser *parser, const char **value) {
    free(parser->last_value);
    parser->last_value = NULL;
    *value = NULL;
    int rc = poptGetNextOpt(parser->context);
    if (rc == -1) return 0;
    if (rc < 0) return rc;
    parser->last_value = poptGetOptArg(parser->context);
    *value = parser->last_value;
    return rc;
}

const char *cpopt_bad_option(cpopt_parser *parser) {
    return poptBadOption(parser->context, POPT_BADOPTION_NOALIAS);
}

const char *cpopt_strerror(int code) { return poptStrerror(code); }

const char *const *cpopt_rest(cpopt_parser *parser, int *count) {
    const char **rest = poptGetArgs(parser->context);
    int n = 0;
    if (rest != NULL) while (rest[n] != NULL) n++;
    *count = n;
    return rest;
}

void cpopt_print_help(cpopt_parser *parser) { poptPrintHelp(parser->context, stdout, 0); fflush(stdout); }
void cpopt_print_usage(cpopt_parser *parser) { poptPrintUsage(parser->context, stdout, 0); fflush(stdout); }

void cpopt_free(cpopt_parser *parser) {
    if (parser == NULL) return;
    free(parser->last_value);
    poptFreeContext(parser->context);
    free(parser->table);
    free(parser);
}
