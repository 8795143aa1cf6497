/* mail.h: a message in the outbox. Types only. */
#ifndef MH_MODEL_MAIL_H
#define MH_MODEL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbox_mail {
	int64_t id;
	const char *to, *subject, *text, *html;
	const char *message_id;
	int64_t created_at;
	int attempts;
	int64_t next_attempt_at;
	int64_t sent_at;
	const char *last_error;
};

#endif
