#include "importers/site.h"
bool
site_read_wordpress(struct site_data *d, const char *path, bool paywall_at_more, int access)
{
	(void) d;
	(void) path;
	(void) paywall_at_more;
	(void) access;
	return false;
}
