/* cmocka_all.h — cmocka with the headers it needs before it (cmocka 1.1). */
#ifndef STINT_CMOCKA_ALL_H
#define STINT_CMOCKA_ALL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#endif
