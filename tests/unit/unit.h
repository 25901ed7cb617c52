/* unit.h — what every cmocka unit test includes. */
#ifndef PHAROS_UNIT_H
#define PHAROS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
