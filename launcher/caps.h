/* Capabilities: drop every set except what the policy keeps. */
#pragma once
#include "launcher/task.h"

int caps_drop(struct task *t, struct sr_error *e);
