// The C shim over popt: the only code in pfutures that touches popt.
// It turns a plain option table into popt's array, iterates the command line
// and reports errors as data. Policy (what options mean) lives in Swift.
#ifndef CPOPT_H
#define CPOPT_H

#include <stdio.h>

/// One option as the Swift side defines it. `id` must be positive.
typedef struct cpopt_spec {
    const char *long_name;   ///< without the leading "--"
    char short_name;         ///< 0 when the option has no short form
    int takes_argument;      ///< non-zero: the option requires a value
    int id;                  ///< returned by cpopt_next for this option
    const char *help;        ///< one-line help text
    const char *arg_name;    ///< value placeholder in --help ("N", "FILE")
} cpopt_spec;

typedef struct cpopt_parser cpopt_parser;

/// Builds a parser over argv[0..argc). argv[0] is the name shown in usage.
/// Parsing stops at the first non-option word; a leading "--" is consumed.
cpopt_parser *cpopt_new(int argc, const char *const *argv,
                        const cpopt_spec *specs, int count,
                        const char *trailing_usage);

/// Next option: its id (> 0), 0 at the end, or a negative popt error code.
/// On success *value is the option's value (owned by the parser) or NULL.
int cpopt_next(cpopt_parser *parser, const char **value);

/// The option word that caused the last error, e.g. "--bogus".
const char *cpopt_bad_option(cpopt_parser *parser);

/// popt's text for an error code returned by cpopt_next.
const char *cpopt_strerror(int code);

/// The words left after the options (NULL-terminated), and their count.
const char *const *cpopt_rest(cpopt_parser *parser, int *count);

void cpopt_print_help(cpopt_parser *parser, FILE *out);
void cpopt_print_usage(cpopt_parser *parser, FILE *out);
void cpopt_free(cpopt_parser *parser);

#endif
