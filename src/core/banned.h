/* banned.h: functions that are too easy to misuse. Including this header
 * after the system headers turns any call to them into a compile error. */
#ifndef MH_BANNED_H
#define MH_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_use_the_buf_or_slice_helpers

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gets
#define gets(x) BANNED(gets)

#endif
