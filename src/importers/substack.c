#include "importers/site.h"
bool
site_read_substack(struct site_data *d, const char *path)
{
	(void) d;
	(void) path;
	return false;
}
