#include "core/err.h"

const char *
mh_strerror(mh_err e)
{
	switch (e) {
	case MH_OK: return "ok";
	case MH_ERR_NOMEM: return "out of memory or over a size limit";
	case MH_ERR_INVALID: return "invalid input";
	case MH_ERR_NOTFOUND: return "not found";
	case MH_ERR_IO: return "input/output error";
	case MH_ERR_DB: return "database error";
	case MH_ERR_CONFLICT: return "conflict";
	case MH_ERR_TOOBIG: return "too big";
	case MH_ERR_PARSE: return "parse error";
	case MH_ERR_DENIED: return "permission denied";
	case MH_ERR_UNSUPPORTED: return "not supported";
	}
	return "unknown error";
}
