/* api.h: what the Content API keeps of its own: keys. Types only. */
#ifndef MH_MODEL_API_H
#define MH_MODEL_API_H

#include <stdint.h>

/* A Content API key: its name, and the hex hash of the key (never the key). */
struct api_key {
	int64_t id;
	const char *name;
	const char *key_hash;
	int64_t created_at;
	int64_t revoked_at; /* 0: in use */
};

#endif
