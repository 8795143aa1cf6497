/* cli.h: the masthead subcommands. Each returns the process exit code:
 * 0 done, 1 failed (database, files, network), 2 bad usage (unknown flag or
 * bad value), 3 bad input data (import rejected, nothing written). */
#ifndef MH_CLI_H
#define MH_CLI_H

#include "core/config.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_DATA = 3 };

struct command {
	const char *name;
	int (*run)(struct config *cfg, int argc, char **argv); /* argv: positional arguments only */
	const char *args;                                      /* positional arguments, for help */
	const char *summary;
	const char *const *keys; /* settings it takes, besides data, db and config */
};

extern const struct command commands[];

int cli_main(int argc, char **argv);

/* Shared steps. */
struct store;
struct store *cli_open_store(struct config *cfg, int *code);
int cli_serve(struct config *cfg, struct store *s, const char *banner);
/* Writes DATA/site.ini: the public URL, and the site name and sender when
 * set, which commands not given them read (cli_main). */
void cli_record_site(const struct config *cfg);
int cmd_demo(struct config *cfg, int argc, char **argv);
int cmd_serve(struct config *cfg, int argc, char **argv);
int cmd_init(struct config *cfg, int argc, char **argv);
int cmd_import(struct config *cfg, int argc, char **argv);
int cmd_export(struct config *cfg, int argc, char **argv);
int cmd_user(struct config *cfg, int argc, char **argv);
int cmd_mail(struct config *cfg, int argc, char **argv);
int cmd_billing(struct config *cfg, int argc, char **argv);
int cmd_plan(struct config *cfg, int argc, char **argv);
int cmd_key(struct config *cfg, int argc, char **argv);
int cmd_newsletter(struct config *cfg, int argc, char **argv);
int cmd_dkim(struct config *cfg, int argc, char **argv);
int cmd_copy(struct config *cfg, int argc, char **argv);
int cmd_import_site(struct config *cfg, int argc, char **argv);
int cmd_redirects(struct config *cfg, int argc, char **argv);
int cmd_backup(struct config *cfg, int argc, char **argv);
int cmd_restore(struct config *cfg, int argc, char **argv);

#endif
