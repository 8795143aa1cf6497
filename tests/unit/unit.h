/* unit.h: what every unit test includes. */
#ifndef MH_UNIT_H
#define MH_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
