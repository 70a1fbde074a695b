/* --self-test: a planted leak for every detector (selftest.c). */
#pragma once

#include "helpers/leaktest/leaktest.h"

/* 0 when it ran (the report says whether every plant was found), 2 when it could not set up. */
int self_test_run(struct lt *lt);
