/* The supervisor: validate, prepare the host side, clone, supervise, report. */
#pragma once
#include "launcher/cli.h"

/* Run one task; returns the exit code sealrun exits with. */
int supervisor_run(const struct cli *cli);
