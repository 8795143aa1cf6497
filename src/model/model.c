/* model.c: the names the model's enums have in the database, in URLs and in
 * logs, and back. */
#include "model/billing.h"
#include "model/content.h"
#include "model/member.h"

#include <string.h>

#include "core/banned.h"

const char *
access_level_name(enum access_level a)
{
	switch (a) {
	case ACCESS_PUBLIC: return "public";
	case ACCESS_MEMBERS: return "members";
	case ACCESS_PAID: return "paid";
	}
	return "paid";
}

int
access_level_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "public") == 0)
		return ACCESS_PUBLIC;
	if (strcmp(s, "members") == 0)
		return ACCESS_MEMBERS;
	if (strcmp(s, "paid") == 0)
		return ACCESS_PAID;
	return -1;
}

const char *
member_role_name(enum member_role r)
{
	switch (r) {
	case ROLE_READER: return "reader";
	case ROLE_EDITOR: return "editor";
	case ROLE_ADMIN: return "admin";
	}
	return "reader";
}

int
member_role_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "reader") == 0)
		return ROLE_READER;
	if (strcmp(s, "editor") == 0)
		return ROLE_EDITOR;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	return -1;
}

static const char *status_names[] = {
	[SUB_NONE] = "none",
	[SUB_ACTIVE] = "active",
	[SUB_TRIALING] = "trialing",
	[SUB_PAST_DUE] = "past_due",
	[SUB_UNPAID] = "unpaid",
	[SUB_INCOMPLETE] = "incomplete",
	[SUB_INCOMPLETE_EXPIRED] = "incomplete_expired",
	[SUB_CANCELED] = "canceled",
	[SUB_PAUSED] = "paused",
};

const char *
sub_status_name(enum sub_status s)
{
	return (unsigned) s < sizeof status_names / sizeof *status_names ? status_names[s] : "none";
}

int
sub_status_parse(const char *s)
{
	for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (int) i;
	return -1;
}

bool
sub_status_live(enum sub_status s)
{
	return s == SUB_ACTIVE || s == SUB_TRIALING || s == SUB_PAST_DUE;
}

bool
sub_status_ended(enum sub_status s)
{
	return s == SUB_CANCELED || s == SUB_INCOMPLETE_EXPIRED;
}
