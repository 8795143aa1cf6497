/* masthead: a publishing server for subscription journalism. */
#include "cli/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
